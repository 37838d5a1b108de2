namespace Chroma.Server.Indexing.Hnsw;

/// <summary>Parameters of an <see cref="HnswIndex"/>; validated by the index constructor.</summary>
internal sealed record HnswOptions
{
    /// <summary>Number of floats per vector. Required; must be at least 1.</summary>
    public required int Dimension { get; init; }

    /// <summary>Distance used for ranking. The default value is <see cref="HnswMetric.L2"/>.</summary>
    public HnswMetric Metric { get; init; } = HnswMetric.L2;

    /// <summary>
    /// Links per node on the upper layers; layer 0 keeps 2*M (as in the paper and hnswlib).
    /// The default value is 16; allowed range 2..100.
    /// </summary>
    public int M { get; init; } = 16;

    /// <summary>Candidate list size while inserting. The default value is 200; at least M.</summary>
    public int EfConstruction { get; init; } = 200;

    /// <summary>Default candidate list size while searching (raised to k when smaller). The default value is 64.</summary>
    public int EfSearch { get; init; } = 64;

    /// <summary>
    /// Width of the beam that walks the layers above the one being searched or linked (the paper walks them greedily,
    /// width 1). A greedy walk stops at the first node none of whose neighbours is closer, and between clusters far
    /// apart that is often a node of another cluster: a search then enters layer 0 outside the query's cluster and, on a
    /// large graph, may never reach it at the breadth asked for; an insert in that state links to the wrong region and
    /// to the other vectors inserted the same way, an island that later searches fall into (outside-in probe K: a
    /// tight cluster of 8,085 vectors at 1.45M had 1,131 later-inserted ones linked only to one another, recall@10
    /// 0.475 at breadth 192). The whole last beam seeds the search of the layer below. Not saved in the index file: a
    /// loaded graph takes the default. The default value is 8; 1 is the paper's greedy walk (one seed).
    /// </summary>
    public int UpperBeam { get; init; } = 8;

    /// <summary>Seed for the level draw, so single-threaded builds are reproducible. The default value is 42.</summary>
    public int Seed { get; init; } = 42;

    /// <summary>
    /// A filtered search scans its subset exactly instead of walking the graph when the subset holds at
    /// most this fraction of the live vectors (or at most <see cref="ExactSearchMaxCount"/> vectors):
    /// a small subset is poorly connected in the graph, and scanning it is cheap anyway.
    /// The default value is 0.05.
    /// </summary>
    public double ExactSearchFraction { get; init; } = 0.05;

    /// <summary>Subsets up to this size are always scanned exactly. The default value is 2048.</summary>
    public int ExactSearchMaxCount { get; init; } = 2048;

    internal void Validate()
    {
        if (Dimension < 1)
        {
            throw new ArgumentException($"Dimension must be at least 1, was {Dimension}.", nameof(Dimension));
        }

        if (M is < 2 or > 100)
        {
            throw new ArgumentException($"M must be in 2..100, was {M}.", nameof(M));
        }

        if (EfConstruction < M)
        {
            throw new ArgumentException($"EfConstruction must be at least M ({M}), was {EfConstruction}.", nameof(EfConstruction));
        }

        if (UpperBeam < 1)
        {
            throw new ArgumentException($"UpperBeam must be at least 1, was {UpperBeam}.", nameof(UpperBeam));
        }

        if (EfSearch < 1)
        {
            throw new ArgumentException($"EfSearch must be at least 1, was {EfSearch}.", nameof(EfSearch));
        }

        if (!Enum.IsDefined(Metric))
        {
            throw new ArgumentException($"Metric {(int)Metric} is not a known HnswMetric.", nameof(Metric));
        }

        if (ExactSearchFraction is < 0 or > 1 || double.IsNaN(ExactSearchFraction))
        {
            throw new ArgumentException($"ExactSearchFraction must be in 0..1, was {ExactSearchFraction}.", nameof(ExactSearchFraction));
        }

        if (ExactSearchMaxCount < 0)
        {
            throw new ArgumentException($"ExactSearchMaxCount must not be negative, was {ExactSearchMaxCount}.", nameof(ExactSearchMaxCount));
        }
    }
}
