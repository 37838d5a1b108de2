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
    IReadOnlyList<string>? ClassNames,
    IReadOnlyDictionary<string, string>? Metadata,
    IReadOnlyList<float>? Embedding)
{
    /// <summary>
    /// Gets the distance metric of the record's set (<c>l2</c> or <c>cosine</c>, <see cref="SetView"/>'s spelling): written on
    /// each line of <c>export --format jsonl</c> so that <c>import</c> creates the set as it was; null (left out) elsewhere,
    /// and in exports from versions that did not write it.
    /// </summary>
    public string? Metric { get; init; }

    /// <summary>Maps a record the client read; empty strings and lists become null (left out of JSON).</summary>
    public static RecordView From(ChromaRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        return new RecordView(
            record.Id,
            record.SetId,
            record.Dataset,
            record.Sequence,
            record.Timestamp.ToUnixTimeMilliseconds(),
            NullIfEmpty(record.InputUri),
            NullIfEmpty(record.Label),
            NullIfEmpty(record.PredictedClass),
            record.ClassProbabilities.IsEmpty ? null : record.ClassProbabilities.ToArray(),
            record.ClassNames.Count > 0 ? [.. record.ClassNames] : null,
            record.Metadata.Count > 0 ? new SortedDictionary<string, string>(record.Metadata.ToDictionary(), StringComparer.Ordinal) : null,
            record.Embedding.IsEmpty ? null : record.Embedding.ToArray());
    }

    private static string? NullIfEmpty(string? value) => string.IsNullOrEmpty(value) ? null : value;
}
