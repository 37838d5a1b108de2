using System.Numerics.Tensors;
using Chroma.Server.Indexing.Hnsw;

namespace Chroma.Server.Indexing;

/// <summary>
/// Exact search by scanning every vector. Vectors live in one contiguous array (cache-friendly,
/// SIMD distances via <see cref="TensorPrimitives"/>); removal moves the last vector into the gap.
/// Squared L2, or cosine distance <c>1 - a.b</c> over vectors normalised on insert (the query too), as
/// <see cref="Hnsw.HnswIndex"/> computes it, so a set answers alike before and after its graph takes over.
/// Not thread-safe.
/// </summary>
internal sealed class BruteForceVectorIndex : IVectorIndex
{
    private const int InitialCapacity = 256;

    private readonly Dictionary<long, int> _slotBySequence = [];
    private readonly Dictionary<string, int> _datasetIds = new(StringComparer.Ordinal);
    private float[] _vectors;
    private long[] _sequences;
    private int[] _datasets;

    // Whether a snapshot reads _vectors (copy-on-write): appends write past the snapshot's rows, but an overwrite or a
    // removal (which moves the last vector into the gap) copies the array first.
    private bool _vectorsShared;

    /// <summary>Creates an empty index for vectors of <paramref name="dimension"/> under <paramref name="metric"/> (L2 or cosine).</summary>
    public BruteForceVectorIndex(int dimension, HnswMetric metric = HnswMetric.L2)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(dimension, 1);
        if (metric is not (HnswMetric.L2 or HnswMetric.Cosine))
        {
            throw new ArgumentOutOfRangeException(nameof(metric), metric, "An embedding set index ranks by squared L2 or cosine distance.");
        }

        Dimension = dimension;
        Metric = metric;
        _vectors = new float[InitialCapacity * dimension];
        _sequences = new long[InitialCapacity];
        _datasets = new int[InitialCapacity];
    }

    /// <inheritdoc />
    public int Dimension { get; }

    /// <inheritdoc />
    public int Count { get; private set; }

    /// <summary>Gets the metric searches rank by.</summary>
    public HnswMetric Metric { get; }

    /// <inheritdoc />
    public void Add(long sequence, ReadOnlySpan<float> vector, string dataset)
    {
        ArgumentOutOfRangeException.ThrowIfNotEqual(vector.Length, Dimension);
        if (!_slotBySequence.TryGetValue(sequence, out var slot))
        {
            EnsureCapacity(Count + 1);
            slot = Count++;
            _slotBySequence[sequence] = slot;
            _sequences[slot] = sequence;
        }
        else
        {
            Unshare();
        }

        vector.CopyTo(Slot(slot));
        if (Metric == HnswMetric.Cosine)
        {
            Normalize(Slot(slot), nameof(vector));
        }

        _datasets[slot] = DatasetId(dataset);
    }

    /// <inheritdoc />
    public bool Remove(long sequence)
    {
        if (!_slotBySequence.Remove(sequence, out var slot))
        {
            return false;
        }

        // Even the last row: a later append would reuse its slot, which the snapshot still reads.
        Unshare();
        var last = --Count;
        if (slot != last)
        {
            Slot(last).CopyTo(Slot(slot));
            _sequences[slot] = _sequences[last];
            _datasets[slot] = _datasets[last];
            _slotBySequence[_sequences[slot]] = slot;
        }

        return true;
    }

    /// <inheritdoc />
    public IReadOnlyList<VectorNeighbor> Search(ReadOnlySpan<float> query, int k, string? dataset = null, NearestSearchOptions options = default)
    {
        ArgumentOutOfRangeException.ThrowIfNotEqual(query.Length, Dimension);
        ArgumentOutOfRangeException.ThrowIfLessThan(k, 1);
        var datasetId = -1;
        if (dataset is not null && !_datasetIds.TryGetValue(dataset, out datasetId))
        {
            return [];
        }

        var cosine = Metric == HnswMetric.Cosine;
        if (cosine)
        {
            var unit = query.ToArray();
            Normalize(unit, nameof(query));
            query = unit;
        }

        // Max-heap of the best k so far: the root is the worst kept neighbour.
        var best = new PriorityQueue<VectorNeighbor, float>(k + 1, Comparer<float>.Create((a, b) => b.CompareTo(a)));
        var difference = new float[Dimension];
        for (var slot = 0; slot < Count; slot++)
        {
            if (datasetId >= 0 && _datasets[slot] != datasetId)
            {
                continue;
            }

            float distance;
            if (cosine)
            {
                distance = 1f - TensorPrimitives.Dot(query, Slot(slot));
            }
            else
            {
                TensorPrimitives.Subtract(query, Slot(slot), difference);
                distance = TensorPrimitives.SumOfSquares(difference);
            }

            if (best.Count < k)
            {
                best.Enqueue(new VectorNeighbor(_sequences[slot], distance), distance);
            }
            else if (distance < best.Peek().Distance)
            {
                best.EnqueueDequeue(new VectorNeighbor(_sequences[slot], distance), distance);
            }
        }

        var result = new VectorNeighbor[best.Count];
        for (var i = result.Length - 1; i >= 0; i--)
        {
            result[i] = best.Dequeue();
        }

        return result;
    }

    /// <summary>
    /// Every held vector with its sequence and dataset (the input of an HNSW build). The vectors are not copied: the
    /// snapshot reads this index's array, which the index copies before it next changes a vector the snapshot holds, so
    /// a million-vector build does not hold the vectors twice while the set only grows.
    /// </summary>
    public VectorSnapshot Snapshot()
    {
        var names = new string[_datasetIds.Count];
        foreach (var (name, id) in _datasetIds)
        {
            names[id] = name;
        }

        var datasets = new string[Count];
        for (var slot = 0; slot < Count; slot++)
        {
            datasets[slot] = names[_datasets[slot]];
        }

        _vectorsShared = true;
        return new VectorSnapshot(_vectors, _sequences.AsSpan(0, Count).ToArray(), datasets);
    }

    private void Unshare()
    {
        if (_vectorsShared)
        {
            _vectors = (float[])_vectors.Clone();
            _vectorsShared = false;
        }
    }

    private Span<float> Slot(int slot) => _vectors.AsSpan(slot * Dimension, Dimension);

    private static void Normalize(Span<float> vector, string name)
    {
        var norm = TensorPrimitives.Norm(vector);
        if (norm == 0)
        {
            throw new ArgumentException($"{name} is all zeros, which has no direction under the cosine metric.", name);
        }

        TensorPrimitives.Divide(vector, norm, vector);
    }

    private int DatasetId(string dataset)
    {
        if (!_datasetIds.TryGetValue(dataset, out var id))
        {
            id = _datasetIds.Count;
            _datasetIds[dataset] = id;
        }

        return id;
    }

    private void EnsureCapacity(int count)
    {
        if (count <= _sequences.Length)
        {
            return;
        }

        var capacity = Math.Max(count, _sequences.Length * 2);
        Array.Resize(ref _vectors, capacity * Dimension);
        _vectorsShared = false; // a new array: a snapshot keeps the old one
        Array.Resize(ref _sequences, capacity);
        Array.Resize(ref _datasets, capacity);
    }
}

/// <summary>
/// Vectors of an index at one moment: row i of <paramref name="Vectors"/> belongs to <c>Sequences[i]</c> (the array may
/// hold more rows than that; read only the first <c>Sequences.Length</c>).
/// </summary>
internal sealed record VectorSnapshot(float[] Vectors, long[] Sequences, string[] Datasets);
