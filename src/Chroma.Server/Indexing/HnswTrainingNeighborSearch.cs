using Chroma.Server.Background;
using Chroma.Server.Indexing.Hnsw;
using Chroma.Server.Recommendations;

namespace Chroma.Server.Indexing;

/// <summary>
/// The recommendation model's neighbour search over its training rows under the set's metric, on an
/// <see cref="HnswIndex"/> built in chunks on a <see cref="BackgroundWorkLimiter"/>'s threads: squared L2 over
/// the raw rows, or <c>1 - a.b</c> over the unit rows the model passes for cosine (the graph's inner-product
/// metric, which takes them as they are). Distances are those of <see cref="BruteForceNeighborSearch"/> and of
/// <c>FindNearest</c>. Thread-safe for concurrent searches.
/// </summary>
/// <remarks>
/// The graph is rebuilt at every fit with M 16 and ef_construction <see cref="EfConstruction"/> (half the sets'
/// indexes' 200: the build is most of a large fit's time, and it halves with it), and searched at ef
/// <see cref="EfSearch"/> (the indexes' 64 plus a quarter), which wins back the recall the cheaper build gives up at
/// about the same query cost: on the 19,000 x 784 MNIST/notMNIST vectors of the <c>ann</c> benchmark, recall@10 0.983
/// and 3,100 queries per CPU second against 0.986 and 2,850 for ef_construction 200 / ef 64, with the build's CPU time
/// halved (7.0 s against 13.7 s). Approximate neighbours are fine here: the signals are means and shares over k
/// neighbours, calibrated against held-out records searched the same way.
/// </remarks>
internal sealed class HnswTrainingNeighborSearch : ITrainingNeighborSearch, IDisposable
{
    private readonly HnswIndex _index;

    /// <summary>The graph's build breadth: candidates kept while linking each row.</summary>
    public const int EfConstruction = 100;

    /// <summary>The search breadth (at least k): candidates kept while searching.</summary>
    public const int EfSearch = 80;

    // Rows inserted per chunk of work: a few tens of milliseconds.
    private const int RowsPerChunk = 256;

    /// <summary>
    /// Builds the graph over row-major <paramref name="rows"/> (row i is key i; unit rows for cosine) under
    /// <paramref name="metric"/>, on <paramref name="limiter"/> (the shared one when null).
    /// </summary>
    public HnswTrainingNeighborSearch(float[] rows, int dimension, NeighborMetric metric, BackgroundWorkLimiter? limiter = null)
    {
        ArgumentNullException.ThrowIfNull(rows);
        ArgumentOutOfRangeException.ThrowIfLessThan(dimension, 1);
        if (rows.Length % dimension != 0)
        {
            throw new ArgumentException($"rows length {rows.Length} is not a multiple of dimension {dimension}.", nameof(rows));
        }

        Metric = metric;
        _index = new HnswIndex(new HnswOptions
        {
            Dimension = dimension,
            Metric = metric == NeighborMetric.Cosine ? HnswMetric.InnerProduct : HnswMetric.L2,
            EfConstruction = EfConstruction,
            EfSearch = EfSearch,
        });
        (limiter ?? BackgroundWorkLimiter.Shared).For(0, rows.Length / dimension, RowsPerChunk, (start, end) =>
        {
            for (var row = start; row < end; row++)
            {
                _index.Add(row, rows.AsSpan(row * dimension, dimension));
            }
        });

        // Rows inserted side by side in parallel can leave one that no search reaches: link those in.
        _index.Reconnect();
    }

    /// <summary>Gets the number of indexed rows.</summary>
    public int Count => _index.Count;

    /// <summary>Gets the metric searches rank by and report.</summary>
    public NeighborMetric Metric { get; }

    /// <summary>
    /// A factory that scans exactly below <paramref name="exactThreshold"/> rows (faster there, no build)
    /// and builds this HNSW search at or above it, on <paramref name="limiter"/> (the shared one when null).
    /// </summary>
    public static NeighborSearchFactory CreateFactory(int exactThreshold, BackgroundWorkLimiter? limiter = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(exactThreshold);
        return (rows, dimension, metric) => rows.Length / dimension < exactThreshold
            ? new BruteForceNeighborSearch(rows, dimension, metric)
            : new HnswTrainingNeighborSearch(rows, dimension, metric, limiter);
    }

    /// <inheritdoc />
    public bool IsExact => false;

    /// <inheritdoc />
    public ITrainingNeighborSearch Broader(int factor)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(factor, 1);
        return new BroaderSearch(this, _index.Options.EfSearch * factor);
    }

    /// <inheritdoc />
    public IReadOnlyList<(int TrainingIndex, float Distance)> Search(ReadOnlySpan<float> query, int k) => Search(query, k, _index.Options.EfSearch);

    /// <inheritdoc />
    public void Dispose() => _index.Dispose();

    private (int TrainingIndex, float Distance)[] Search(ReadOnlySpan<float> query, int k, int breadth)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(k, 1);
        var found = _index.Search(query, k, tag: null, ef: Math.Max(breadth, k));
        var result = new (int, float)[found.Length];
        for (var i = 0; i < found.Length; i++)
        {
            result[i] = ((int)found[i].Key, Math.Max(0f, found[i].Distance));
        }

        return result;
    }

    // The same graph searched with a larger breadth (candidates kept).
    private sealed class BroaderSearch(HnswTrainingNeighborSearch graph, int breadth) : ITrainingNeighborSearch
    {
        public bool IsExact => false;

        public ITrainingNeighborSearch Broader(int factor) => new BroaderSearch(graph, breadth * factor);

        public IReadOnlyList<(int TrainingIndex, float Distance)> Search(ReadOnlySpan<float> query, int k) => graph.Search(query, k, breadth);
    }
}
