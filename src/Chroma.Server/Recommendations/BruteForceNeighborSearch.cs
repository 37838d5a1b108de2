using System.Numerics.Tensors;

namespace Chroma.Server.Recommendations;

/// <summary>
/// Exact k-nearest-neighbour search by scanning every training vector with SIMD dot products: squared
/// Euclidean distance <c>|q|^2 + |t|^2 - 2 q.t</c> under <see cref="NeighborMetric.L2"/>, <c>1 - q.t</c> (unit
/// rows and query) under <see cref="NeighborMetric.Cosine"/>. O(n d) per query; the reference the HNSW index is
/// compared against, and the default for small training sets.
/// </summary>
internal sealed class BruteForceNeighborSearch : ITrainingNeighborSearch
{
    private readonly float[] _vectors;
    private readonly float[] _squaredNorms;
    private readonly int _dimension;

    /// <summary>Wraps row-major <paramref name="vectors"/> (not copied), searched under <paramref name="metric"/>.</summary>
    public BruteForceNeighborSearch(float[] vectors, int dimension, NeighborMetric metric)
    {
        ArgumentNullException.ThrowIfNull(vectors);
        ArgumentOutOfRangeException.ThrowIfLessThan(dimension, 1);
        if (vectors.Length % dimension != 0)
        {
            throw new ArgumentException($"vectors length {vectors.Length} is not a multiple of dimension {dimension}.", nameof(vectors));
        }

        _vectors = vectors;
        _dimension = dimension;
        Metric = metric;
        _squaredNorms = new float[vectors.Length / dimension];
        for (var i = 0; i < _squaredNorms.Length; i++)
        {
            var row = vectors.AsSpan(i * dimension, dimension);
            _squaredNorms[i] = TensorPrimitives.Dot(row, row);
        }
    }

    /// <summary>A <see cref="NeighborSearchFactory"/> that builds this search.</summary>
    public static NeighborSearchFactory Factory { get; } = (vectors, dimension, metric) => new BruteForceNeighborSearch(vectors, dimension, metric);

    /// <summary>Number of indexed vectors.</summary>
    public int Count => _squaredNorms.Length;

    /// <summary>Gets the metric searches rank by and report.</summary>
    public NeighborMetric Metric { get; }

    /// <inheritdoc />
    public bool IsExact => true;

    /// <inheritdoc />
    public ITrainingNeighborSearch Broader(int factor) => this;

    /// <inheritdoc />
    public IReadOnlyList<(int TrainingIndex, float Distance)> Search(ReadOnlySpan<float> query, int k)
    {
        if (query.Length != _dimension)
        {
            throw new ArgumentException($"query has {query.Length} floats, expected {_dimension}.", nameof(query));
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(k, 1);
        k = Math.Min(k, Count);
        var cosine = Metric == NeighborMetric.Cosine;
        var queryNorm = TensorPrimitives.Dot(query, query);

        // Keep the k best in a sorted buffer: k is small (about 10), so insertion beats a heap.
        Span<int> bestIndex = k <= 256 ? stackalloc int[k] : new int[k];
        Span<float> bestSquared = k <= 256 ? stackalloc float[k] : new float[k];
        bestSquared.Fill(float.PositiveInfinity);
        Span<float> dots = stackalloc float[DotProducts.BlockRows];
        for (var start = 0; start < _squaredNorms.Length; start += DotProducts.BlockRows)
        {
            var rows = Math.Min(DotProducts.BlockRows, _squaredNorms.Length - start);
            DotProducts.Block(query, _vectors.AsSpan(start * _dimension, rows * _dimension), dots[..rows]);
            for (var r = 0; r < rows; r++)
            {
                var distance = cosine ? 1f - dots[r] : queryNorm + _squaredNorms[start + r] - (2f * dots[r]);
                if (distance < bestSquared[k - 1])
                {
                    Insert(bestIndex, bestSquared, start + r, distance);
                }
            }
        }

        var result = new (int, float)[k];
        for (var j = 0; j < k; j++)
        {
            // Rounding can make either form slightly negative for identical vectors.
            result[j] = (bestIndex[j], Math.Max(0f, bestSquared[j]));
        }

        return result;
    }

    /// <summary>
    /// <see cref="Search"/> for each of the row-major <paramref name="queries"/>, with the same answers: each block of rows
    /// is read once for all of them (while it is in cache), so a scan for many queries costs about what the dot products
    /// do, not what reading every row once per query does.
    /// </summary>
    public IReadOnlyList<(int TrainingIndex, float Distance)>[] SearchMany(float[] queries, int k)
    {
        ArgumentNullException.ThrowIfNull(queries);
        if (queries.Length % _dimension != 0)
        {
            throw new ArgumentException($"queries length {queries.Length} is not a multiple of dimension {_dimension}.", nameof(queries));
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(k, 1);
        k = Math.Min(k, Count);
        var count = queries.Length / _dimension;
        var cosine = Metric == NeighborMetric.Cosine;
        var queryNorms = new float[count];
        var bestIndex = new int[count * k];
        var bestSquared = new float[count * k];
        bestSquared.AsSpan().Fill(float.PositiveInfinity);
        for (var q = 0; q < count; q++)
        {
            var query = queries.AsSpan(q * _dimension, _dimension);
            queryNorms[q] = TensorPrimitives.Dot(query, query);
        }

        Span<float> dots = stackalloc float[DotProducts.BlockRows];
        for (var start = 0; start < _squaredNorms.Length; start += DotProducts.BlockRows)
        {
            var rows = Math.Min(DotProducts.BlockRows, _squaredNorms.Length - start);
            var block = _vectors.AsSpan(start * _dimension, rows * _dimension);
            for (var q = 0; q < count; q++)
            {
                DotProducts.Block(queries.AsSpan(q * _dimension, _dimension), block, dots[..rows]);
                var indexes = bestIndex.AsSpan(q * k, k);
                var squared = bestSquared.AsSpan(q * k, k);
                for (var r = 0; r < rows; r++)
                {
                    var distance = cosine ? 1f - dots[r] : queryNorms[q] + _squaredNorms[start + r] - (2f * dots[r]);
                    if (distance < squared[k - 1])
                    {
                        Insert(indexes, squared, start + r, distance);
                    }
                }
            }
        }

        var results = new IReadOnlyList<(int, float)>[count];
        for (var q = 0; q < count; q++)
        {
            var result = new (int, float)[k];
            for (var j = 0; j < k; j++)
            {
                result[j] = (bestIndex[(q * k) + j], Math.Max(0f, bestSquared[(q * k) + j]));
            }

            results[q] = result;
        }

        return results;
    }

    private static void Insert(Span<int> bestIndex, Span<float> bestSquared, int index, float squared)
    {
        var position = bestSquared.Length - 1;
        while (position > 0 && bestSquared[position - 1] > squared)
        {
            bestSquared[position] = bestSquared[position - 1];
            bestIndex[position] = bestIndex[position - 1];
            position--;
        }

        bestSquared[position] = squared;
        bestIndex[position] = index;
    }
}
