using Chroma.Server.Background;
using Chroma.Server.Indexing.Hnsw;
using Chroma.Server.Recommendations;

namespace Chroma.Server.Indexing;

/// <summary>
/// The recommendation model's neighbour search over its unit-normalised training rows, on an
/// <see cref="HnswIndex"/> (L2 on unit vectors, built in chunks on a <see cref="BackgroundWorkLimiter"/>'s
/// threads). Distances are Euclidean, like <see cref="BruteForceNeighborSearch"/>'s, so both calibrate alike.
/// Thread-safe for concurrent searches.
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

    /// <summary>Builds the graph over row-major <paramref name="unitVectors"/> (row i is key i) on <paramref name="limiter"/> (the shared one when null).</summary>
    public HnswTrainingNeighborSearch(float[] unitVectors, int dimension, BackgroundWorkLimiter? limiter = null)
    {
        ArgumentNullException.ThrowIfNull(unitVectors);
        ArgumentOutOfRangeException.ThrowIfLessThan(dimension, 1);
        if (unitVectors.Length % dimension != 0)
        {
            throw new ArgumentException($"unitVectors length {unitVectors.Length} is not a multiple of dimension {dimension}.", nameof(unitVectors));
        }

        _index = new HnswIndex(new HnswOptions { Dimension = dimension, Metric = HnswMetric.L2 });
        var rows = unitVectors.Length / dimension;
        (limiter ?? BackgroundWorkLimiter.Shared).For(0, rows, RowsPerChunk, (start, end) =>
        {
            for (var row = start; row < end; row++)
            {
                _index.Add(row, unitVectors.AsSpan(row * dimension, dimension));
            }
        });
    }

    /// <summary>Gets the number of indexed rows.</summary>
    public int Count => _index.Count;

    /// <summary>
    /// A factory that scans exactly below <paramref name="exactThreshold"/> rows (faster there, no build)
    /// and builds this HNSW search at or above it, on <paramref name="limiter"/> (the shared one when null).
    /// </summary>
    public static NeighborSearchFactory CreateFactory(int exactThreshold, BackgroundWorkLimiter? limiter = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(exactThreshold);
        return (unitVectors, dimension) => unitVectors.Length / dimension < exactThreshold
            ? new BruteForceNeighborSearch(unitVectors, dimension)
            : new HnswTrainingNeighborSearch(unitVectors, dimension, limiter);
    }

    /// <inheritdoc />
    public IReadOnlyList<(int TrainingIndex, float Distance)> Search(ReadOnlySpan<float> query, int k)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(k, 1);
        var found = _index.Search(query, k, tag: null, ef: Math.Max(_index.Options.EfSearch, k));
        var result = new (int, float)[found.Length];
        for (var i = 0; i < found.Length; i++)
        {
            result[i] = ((int)found[i].Key, MathF.Sqrt(found[i].Distance));
        }

        return result;
    }

    /// <inheritdoc />
    public void Dispose() => _index.Dispose();
}
