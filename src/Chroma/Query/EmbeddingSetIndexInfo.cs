namespace Chroma;

/// <summary>What answers a set's nearest-neighbour searches.</summary>
public enum EmbeddingSetIndexKind
{
    /// <summary>The server did not say (an older server).</summary>
    Unknown = 0,

    /// <summary>Every vector is scanned (small sets): exact answers.</summary>
    Exact = 1,

    /// <summary>An HNSW graph is being built in the background; every vector is scanned meanwhile (exact answers).</summary>
    Building = 2,

    /// <summary>The HNSW graph answers: approximate, see <see cref="EmbeddingSetIndexInfo.EstimatedRecallAt10"/>.</summary>
    Hnsw = 3,
}

/// <summary>A set's nearest-neighbour index: what answers searches, and how well.</summary>
public sealed class EmbeddingSetIndexInfo
{
    /// <summary>Gets what answers searches.</summary>
    public EmbeddingSetIndexKind Kind { get; init; }

    /// <summary>Gets the number of vectors searchable.</summary>
    public long IndexedCount { get; init; }

    /// <summary>Gets the number of vectors in the graph; while building, how many are inserted so far.</summary>
    public long GraphCount { get; init; }

    /// <summary>Gets the default search breadth (HNSW ef); 0 while searches are exact.</summary>
    public int SearchBreadth { get; init; }

    /// <summary>
    /// Gets recall@10 at <see cref="SearchBreadth"/>, estimated against an exact scan on a random sample of the
    /// set's own records; <see langword="null"/> until estimated. The server widens the breadth until it is at least 0.95.
    /// </summary>
    public double? EstimatedRecallAt10 { get; init; }

    /// <summary>Gets the number of sample queries behind <see cref="EstimatedRecallAt10"/> (0 until estimated).</summary>
    public int RecallSampleSize { get; init; }

    /// <summary>Gets the graph size the estimate was measured at (it is redone after 10% growth or shrinkage).</summary>
    public long RecallEstimatedAtCount { get; init; }

    /// <summary>
    /// Gets why the last HNSW build failed (the exception's type and message), while no graph answers: exact search
    /// answers meanwhile, and the set's next change starts the build again; <see langword="null"/> when none failed.
    /// </summary>
    public string? BuildFailure { get; init; }

    /// <summary>Gets when the build of <see cref="BuildFailure"/> failed; <see langword="null"/> when none failed.</summary>
    public DateTimeOffset? BuildFailedAt { get; init; }
}
