namespace Chroma;

/// <summary>What <see cref="ChromaClient.ImportAsync(EmbeddingSetDescriptor, IEnumerable{ImportRecord}, ImportOptions, CancellationToken)"/> did: records stored, records the server already held, and the rejection that stopped it.</summary>
public sealed class ImportResult
{
    /// <summary>Gets how many records the server stored.</summary>
    public required long Accepted { get; init; }

    /// <summary>Gets how many records the server already held with identical content (not stored again).</summary>
    public required long Duplicates { get; init; }

    /// <summary>Gets how many records were sent in acknowledged or rejected batches.</summary>
    public required long Sent { get; init; }

    /// <summary>Gets the server's message for the batch it rejected, or <see langword="null"/> (the default) when every batch was stored.</summary>
    public string? Error { get; init; }

    /// <summary>
    /// Gets the zero-based index, among the records given, of the record the server rejected, or of the first record of the
    /// rejected batch when the server named no single record; <see langword="null"/> (the default) when nothing was rejected.
    /// </summary>
    public long? ErrorRecordIndex { get; init; }

    /// <summary>Gets whether the server named the rejected record itself (rather than the whole batch). The default value is <see langword="false"/>.</summary>
    public bool ErrorIsRecord { get; init; }

    /// <summary>
    /// Gets the records skipped as invalid, in order, when <see cref="ImportOptions.SkipInvalidRecords"/> was set; empty
    /// (the default) otherwise.
    /// </summary>
    public IReadOnlyList<ImportSkippedRecord> Skipped { get; init; } = [];
}
