namespace Chroma;

/// <summary>How <see cref="ChromaClient.ImportAsync(EmbeddingSetDescriptor, IEnumerable{ImportRecord}, ImportOptions, CancellationToken)"/> sends records.</summary>
public sealed class ImportOptions
{
    /// <summary>Gets or sets the records per batch, 1-10,000. The default value is 500.</summary>
    public int BatchSize { get; set; } = 500;

    /// <summary>Gets or sets what is told how many records each acknowledged batch held, or <see langword="null"/> (the default).</summary>
    public IProgress<int>? Progress { get; set; }

    /// <summary>
    /// Gets or sets whether records the server refuses as invalid (a NaN, a field over its limit, ...) are skipped, each
    /// listed in <see cref="ImportResult.Skipped"/> with the server's reason, and the rest of their batch stored, so the
    /// import goes on. The default value is <see langword="false"/>: the import stops at the first rejected batch. A
    /// rejection of a batch as a whole (wrong dimension for the set, the server out of space, ...) stops it either way.
    /// </summary>
    public bool SkipInvalidRecords { get; set; }
}
