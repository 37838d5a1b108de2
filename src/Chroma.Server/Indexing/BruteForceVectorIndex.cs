using System.Numerics.Tensors;
using Chroma.Server.Indexing.Hnsw;

namespace Chroma.Server.Indexing;

/// <summary>
/// Exact search by scanning every vector. Vectors live in row-major chunks of at most 64 KiB (SIMD distances via
/// <see cref="TensorPrimitives"/>); removal moves the last vector into the gap. Chunks rather than one array: the index
/// grows a chunk at a time (doubling one array to a million 128-d vectors allocates about 1 GiB of large-object arrays
/// along the way, half of it garbage), a change after a snapshot copies one chunk rather than every vector (512 MiB
/// there), and what the index frees when a set's graph takes over is small-object memory the collector compacts.
/// Squared L2, or cosine distance <c>1 - a.b</c> over vectors normalised on insert (the query too), as
/// <see cref="Hnsw.HnswIndex"/> computes it, so a set answers alike before and after its graph takes over.
/// Not thread-safe.
/// </summary>
internal sealed class BruteForceVectorIndex : IVectorIndex
{
    private const int InitialCapacity = 256;

    /// <summary>The floats a chunk holds at most (64 KiB: below the large-object threshold), unless one row is longer.</summary>
    private const int ChunkFloats = 16_384;

    private readonly Dictionary<long, int> _slotBySequence = [];
    private readonly Dictionary<string, int> _datasetIds = new(StringComparer.Ordinal);
    private readonly int _chunkRows;
    private float[][] _chunks = [];
    private long[] _sequences;
    private int[] _datasets;

    // Copy-on-write with snapshots, per chunk: a snapshot reads rows below _snapshotRows of the chunks marked shared, so
    // a write to such a row (an overwrite, a removal's move, an append into a slot a removal freed) copies that chunk
    // first; appends past the snapshot's rows write in place.
    private bool[] _chunkShared = [];
    private int _snapshotRows;

    /// <summary>Creates an empty index for vectors of <paramref name="dimension"/> under <paramref name="metric"/> (L2 or cosine).</summary>
    public BruteForceVectorIndex(int dimension, HnswMetric metric = HnswMetric.L2)
        : this(dimension, metric, Math.Max(1, ChunkFloats / Math.Max(1, dimension)))
    {
    }

    /// <summary>Creates an empty index whose chunks hold <paramref name="chunkRows"/> vectors each (tests cross chunk edges with few rows).</summary>
    internal BruteForceVectorIndex(int dimension, HnswMetric metric, int chunkRows)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(dimension, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(chunkRows, 1);
        if (metric is not (HnswMetric.L2 or HnswMetric.Cosine))
        {
            throw new ArgumentOutOfRangeException(nameof(metric), metric, "An embedding set index ranks by squared L2 or cosine distance.");
        }

        Dimension = dimension;
        Metric = metric;
        _chunkRows = chunkRows;
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

        var row = WritableRow(slot);
        vector.CopyTo(row);
        if (Metric == HnswMetric.Cosine)
        {
            Normalize(row, nameof(vector));
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

        // The last row's slot is freed too: the append that reuses it copies its chunk then (WritableRow).
        var last = --Count;
        if (slot != last)
        {
            Row(last).CopyTo(WritableRow(slot));
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
                distance = 1f - TensorPrimitives.Dot(query, Row(slot));
            }
            else
            {
                TensorPrimitives.Subtract(query, Row(slot), difference);
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
    /// snapshot reads this index's chunks, and the index copies a chunk before it next changes a vector the snapshot
    /// holds there, so a million-vector build does not hold the vectors twice while the set only grows.
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

        // An earlier snapshot keeps its protection too (rows below the larger count, chunks marked before).
        var chunks = (Count + _chunkRows - 1) / _chunkRows;
        _chunkShared.AsSpan(0, chunks).Fill(true);
        _snapshotRows = Math.Max(_snapshotRows, Count);
        return new VectorSnapshot(_chunks[..chunks], _chunkRows, Dimension, _sequences.AsSpan(0, Count).ToArray(), datasets);
    }

    private Span<float> Row(int slot) => _chunks[slot / _chunkRows].AsSpan(slot % _chunkRows * Dimension, Dimension);

    /// <summary>The row of <paramref name="slot"/>, its chunk copied first when the last snapshot reads that row.</summary>
    private Span<float> WritableRow(int slot)
    {
        var chunk = slot / _chunkRows;
        if (slot < _snapshotRows && _chunkShared[chunk])
        {
            _chunks[chunk] = (float[])_chunks[chunk].Clone();
            _chunkShared[chunk] = false;
        }

        return Row(slot);
    }

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
        if (count > _sequences.Length)
        {
            var capacity = Math.Max(count, _sequences.Length * 2);
            Array.Resize(ref _sequences, capacity);
            Array.Resize(ref _datasets, capacity);
        }

        var chunk = (count - 1) / _chunkRows;
        if (chunk == _chunks.Length)
        {
            Array.Resize(ref _chunks, Math.Max(4, _chunks.Length * 2));
            Array.Resize(ref _chunkShared, _chunks.Length);
        }

        // A chunk is allocated when the first row reaches it and kept when removals empty it (a later append refills it).
        _chunks[chunk] ??= new float[_chunkRows * Dimension];
    }
}

/// <summary>
/// Vectors of an index at one moment: row i (read with <see cref="Row"/>) belongs to <c>Sequences[i]</c>. The chunks
/// hold <paramref name="ChunkRows"/> rows of <paramref name="Dimension"/> floats each, row-major; the last may hold
/// rows past the snapshot's, which it does not read.
/// </summary>
internal sealed record VectorSnapshot(float[][] Chunks, int ChunkRows, int Dimension, long[] Sequences, string[] Datasets)
{
    /// <summary>Gets the vector of row <paramref name="row"/>.</summary>
    public ReadOnlySpan<float> Row(int row) => Chunks[row / ChunkRows].AsSpan(row % ChunkRows * Dimension, Dimension);
}
