using System.Text.RegularExpressions;
using Chroma.Server.Storage.Internal;

namespace Chroma.Server.Storage.Postgres.Internal;

/// <summary>
/// PostgreSQL text and jsonb cannot hold U+0000 (SQLite can): such a record is refused with a message
/// naming the field, before anything of its batch is written. (Class names are stored as JSON text,
/// where U+0000 is escaped, so they need no check.)
/// </summary>
internal static partial class PostgresText
{
    private const string Problem = "contains U+0000, which the PostgreSQL store cannot hold";

    /// <summary>
    /// The records of <paramref name="records"/> holding U+0000, each listed (<see cref="IngestRejection.RecordRejections"/>),
    /// or null. The ingest validator has already refused them (<see cref="Check"/>); this catches any that reach the store.
    /// </summary>
    public static IngestRejection? Unstorable(IReadOnlyList<PreparedRecord> records)
    {
        List<IngestRejection>? unstorable = null;
        for (var i = 0; i < records.Count; i++)
        {
            var r = records[i];
            var field = HasNul(r.InputUri) ? "input_uri"
                : HasNul(r.PredictedClass) ? "inference.predicted_class"
                : HasNul(r.Label) ? "label"
                : r.MetadataJson is { } json && EscapedNul().IsMatch(json) ? "metadata"
                : null;
            if (field is not null)
            {
                (unstorable ??= []).Add(IngestRejections.UnstorableValue(field, i, Problem));
            }
        }

        return IngestRejection.Listing(unstorable);
    }

    /// <summary>Why record <paramref name="index"/> of a batch cannot be stored (it holds U+0000), or null; as <see cref="Unstorable"/> says it.</summary>
    public static IngestRejection? Check(Protocol.V1.Record record, int index)
    {
        var field = HasNul(record.InputUri) ? "input_uri"
            : HasNul(record.Inference?.PredictedClass) ? "inference.predicted_class"
            : HasNul(record.Label) ? "label"
            : record.Metadata.Any(static e => HasNul(e.Key) || HasNul(e.Value)) ? "metadata"
            : null;
        return field is null ? null : IngestRejections.UnstorableValue(field, index, Problem);
    }

    /// <summary>Whether <paramref name="value"/> holds U+0000.</summary>
    public static bool HasNul(string? value) => value is not null && value.Contains('\0', StringComparison.Ordinal);

    // JSON text escapes U+0000 as \u0000 (preceded by an even number of backslashes, or none).
    [GeneratedRegex(@"(?<!\\)(?:\\\\)*\\u0000", RegexOptions.CultureInvariant)]
    private static partial Regex EscapedNul();
}
