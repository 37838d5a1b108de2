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
/// The graph is rebuilt at every fit with the index defaults (M 16, ef_construction 200) and searched
/// at ef 64. Approximate neighbours are fine here: the signals are means and shares over k
/// neighbours, calibrated against held-out records searched the same way.
/// </remarks>
internal sealed class HnswTrainingNeighborSearch : ITrainingNeighborSearch, IDisposable
{
    private readonly HnswIndex _index;

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
        _index = new HnswIndex(new HnswOptions { Dimension = dimension, Metric = metric == NeighborMetric.Cosine ? HnswMetric.InnerProduct : HnswMetric.L2 });
        (limiter ?? BackgroundWorkLimiter.Shared).For(0, rows.Length / dimension, RowsPerChunk, (start, end) =>
        {
            for (var row = start; row < end; row++)
            {
                _index.Add(row, rows.AsSpan(row * dimension, dimension));
            }
        });
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
    public IReadOnlyList<(int TrainingIndex, float Distance)> Search(ReadOnlySpan<float> query, int k)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(k, 1);
        var found = _index.Search(query, k, tag: null, ef: Math.Max(_index.Options.EfSearch, k));
        var result = new (int, float)[found.Length];
        for (var i = 0; i < found.Length; i++)
        {
            result[i] = ((int)found[i].Key, Math.Max(0f, found[i].Distance));
        }

        return result;
    }

    /// <inheritdoc />
    public void Dispose() => _index.Dispose();
}
