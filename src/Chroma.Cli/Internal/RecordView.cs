using Chroma.Protocol.V1;

namespace Chroma.Server.Cli.Internal;

/// <summary>A stored record as the CLI prints and exports it (JSON field names are camelCase).</summary>
internal sealed record RecordView(
    string Id,
    string SetId,
    string Dataset,
    long Sequence,
    long TimestampUnixMs,
    string? InputUri,
    string? Label,
    string? PredictedClass,
    IReadOnlyList<float>? ClassProbabilities,
    IReadOnlyDictionary<string, string>? Metadata,
    IReadOnlyList<float>? Embedding)
{
    /// <summary>Maps a record from the wire; empty strings and lists become null (left out of JSON).</summary>
    public static RecordView From(StoredRecord stored)
    {
        ArgumentNullException.ThrowIfNull(stored);
        var record = stored.Record;
        return new RecordView(
            record.Id,
            stored.SetId,
            record.Dataset,
            stored.Sequence,
            record.TimestampUnixMs,
            NullIfEmpty(record.InputUri),
            NullIfEmpty(record.Label),
            NullIfEmpty(record.Inference?.PredictedClass),
            record.Inference is { ClassProbabilities.Count: > 0 } inference ? [.. inference.ClassProbabilities] : null,
            record.Metadata.Count > 0 ? new SortedDictionary<string, string>(record.Metadata, StringComparer.Ordinal) : null,
            record.Embedding.Count > 0 ? [.. record.Embedding] : null);
    }

    private static string? NullIfEmpty(string? value) => string.IsNullOrEmpty(value) ? null : value;
}
