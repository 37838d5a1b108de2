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

    /// <summary>The first record of <paramref name="records"/> holding U+0000, or null.</summary>
    public static IngestRejection? FirstUnstorable(IReadOnlyList<PreparedRecord> records)
    {
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
                return IngestRejections.UnstorableValue(field, i, Problem);
            }
        }

        return null;
    }

    /// <summary>Whether <paramref name="value"/> holds U+0000.</summary>
    public static bool HasNul(string? value) => value is not null && value.Contains('\0', StringComparison.Ordinal);

    // JSON text escapes U+0000 as \u0000 (preceded by an even number of backslashes, or none).
    [GeneratedRegex(@"(?<!\\)(?:\\\\)*\\u0000", RegexOptions.CultureInvariant)]
    private static partial Regex EscapedNul();
}
