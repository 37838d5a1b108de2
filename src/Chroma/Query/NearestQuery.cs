namespace Chroma;

/// <summary>
/// What <see cref="ChromaClient.FindNearestAsync(string, ReadOnlyMemory{float}, NearestQuery, CancellationToken)"/>
/// and <see cref="ChromaClient.FindNearestToRecordAsync(string, string, NearestQuery, CancellationToken)"/> look for.
/// </summary>
public sealed class NearestQuery
{
    /// <summary>How many neighbours, 1-1000. The default value is 10.</summary>
    public int K { get; set; } = 10;

    /// <summary>Only neighbours from this dataset, or <see langword="null"/> (the default) for all.</summary>
    public string? Dataset { get; set; }

    /// <summary>
    /// HNSW search breadth (ef) for this call, 1-10000: wider is slower and finds more of the true neighbours.
    /// 0 (the default) uses the set's adaptive breadth, chosen by the server so recall@10 is at least 0.95
    /// (see <see cref="EmbeddingSetIndexInfo.SearchBreadth"/>).
    /// </summary>
    public int SearchBreadth { get; set; }

    /// <summary>
    /// Scan every vector for exact neighbours (linear cost; overrides <see cref="SearchBreadth"/>).
    /// The default value is <see langword="false"/>.
    /// </summary>
    public bool Exact { get; set; }
}
