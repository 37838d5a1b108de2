using Chroma.Server.Indexing.Hnsw;
using Chroma.Server.Indexing.Hnsw.Internal;
using Chroma.Server.Indexing.Internal;

namespace Chroma.Server.Indexing;

/// <summary>
/// Exact search by scanning every vector. Vectors live in row-major chunks of at most 64 KiB (SIMD distances through
/// the HNSW graph's <see cref="DistanceKernels"/>); removal moves the last vector into the gap. Chunks rather than one array: the index
/// grows a chunk at a time (doubling one array to a million 128-d vectors allocates about 1 GiB of large-object arrays
/// along the way, half of it garbage), and a change after a snapshot copies one chunk rather than every vector (512 MiB
/// there). From row 8,192 on, the chunks are consecutive parts of pinned slabs of 4,096 rows (<see cref="VectorBlocks"/>),
/// so the HNSW graph built from a snapshot uses those slabs as its own vectors instead of holding every vector a second
/// time while it builds.
/// Queries that arrive together can share one pass over the vectors (<see cref="SearchMany"/>, <see cref="SearchTogether"/>).
/// Squared L2, or cosine distance <c>1 - a.b</c> over vectors normalised on insert (the query too), as
/// <see cref="Hnsw.HnswIndex"/> computes it, so a set answers alike before and after its graph takes over.
/// Not thread-safe: searches may run at once only while nothing changes the index (its users hold a lock for that).
/// </summary>
internal sealed class BruteForceVectorIndex : IVectorIndex
{
    private const int InitialCapacity = 256;

    private readonly Dictionary<long, int> _slotBySequence = [];
    private readonly Dictionary<string, int> _datasetIds = new(StringComparer.Ordinal);
    private readonly int _chunkRows;
    private readonly CoalescedScans _together;

    // Chunk i is _chunkRows rows of _chunks[i] from float _chunkStarts[i]; _inSlab[i]: that array is a slab shared by the
    // chunks of its 4,096 rows (a copy-on-write gives the chunk an array of its own).
    private float[][] _chunks = [];
    private int[] _chunkStarts = [];
    private bool[] _inSlab = [];
    private long[] _sequences;
    private int[] _datasets;

    // Copy-on-write with snapshots, per chunk: a snapshot reads rows below _snapshotRows of the chunks marked shared, so
    // a write to such a row (an overwrite, a removal's move, an append into a slot a removal freed) copies that chunk
    // first; appends past the snapshot's rows write in place.
    private bool[] _chunkShared = [];
    private int _snapshotRows;

    /// <summary>Creates an empty index for vectors of <paramref name="dimension"/> under <paramref name="metric"/> (L2 or cosine).</summary>
    public BruteForceVectorIndex(int dimension, HnswMetric metric = HnswMetric.L2)
        : this(dimension, metric, VectorBlocks.RowsFor(Math.Max(1, dimension)))
    {
    }

    /// <summary>
    /// Creates an empty index whose chunks hold <paramref name="chunkRows"/> vectors each (tests cross chunk edges with
    /// few rows); slabs only when that divides 4,096.
    /// </summary>
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
        _together = new CoalescedScans(SearchMany);
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

    /// <summary>Whether the vector of record <paramref name="sequence"/> is held.</summary>
    public bool Contains(long sequence) => _slotBySequence.ContainsKey(sequence);

    /// <summary>
    /// Copies the vector held for record <paramref name="sequence"/> (normalised under the cosine metric) to
    /// <paramref name="destination"/>, which takes <see cref="Dimension"/> floats.
    /// </summary>
    /// <exception cref="KeyNotFoundException">The index holds no vector for <paramref name="sequence"/>.</exception>
    public void CopyRow(long sequence, Span<float> destination)
    {
        if (!_slotBySequence.TryGetValue(sequence, out var slot))
        {
            throw new KeyNotFoundException($"No vector is held for record {sequence}.");
        }

        Row(slot).CopyTo(destination);
    }

    /// <summary>Gets the record whose vector is row <paramref name="row"/> (below <see cref="Count"/>).</summary>
    public long SequenceAt(int row)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual((uint)row, (uint)Count, nameof(row));
        return _sequences[row];
    }

    /// <summary>
    /// The pinned slab holding rows <c>slab * 4,096</c> to <c>+4,095</c>, when all of them are held and their blocks are
    /// still its consecutive parts, and from now on shared as a snapshot's are: the index copies a block of it before it
    /// next changes one of its rows, so the slab is never written again and a graph may use it as its vectors
    /// (<see cref="HnswVectorIndex.AdoptMoreVectors"/>). Null otherwise, and nothing is shared.
    /// </summary>
    public float[]? ShareWholeSlab(int slab)
    {
        if (VectorBlocks.WholeSlab(_chunks, _chunkStarts, _inSlab, _chunkRows, Dimension, Count, slab) is not { } array)
        {
            return null;
        }

        var perSlab = VectorBlocks.SlabRows / _chunkRows;
        _chunkShared.AsSpan(slab * perSlab, perSlab).Fill(true);
        _snapshotRows = Math.Max(_snapshotRows, (slab + 1) * VectorBlocks.SlabRows);
        return array;
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
    public IReadOnlyList<VectorNeighbor> Search(ReadOnlySpan<float> query, int k, string? dataset = null, NearestSearchOptions options = default) =>
        SearchMany([new ExactQuery(query.ToArray(), k, dataset)])[0];

    /// <summary>
    /// The same answer as <see cref="Search"/>, from a pass shared with the searches that arrive while another runs
    /// (<see cref="CoalescedScans"/>): for callers that search concurrently, each holding a lock that keeps the index
    /// unchanged meanwhile.
    /// </summary>
    public IReadOnlyList<VectorNeighbor> SearchTogether(ReadOnlySpan<float> query, int k, string? dataset = null)
    {
        ArgumentOutOfRangeException.ThrowIfNotEqual(query.Length, Dimension);
        ArgumentOutOfRangeException.ThrowIfLessThan(k, 1);
        return _together.Search(new ExactQuery(query.ToArray(), k, dataset));
    }

    /// <summary>
    /// The exact answers of many queries in one pass over the vectors, the same as one <see cref="Search"/> each: each
    /// chunk (64 KiB at most) is measured against every query while it is in cache, so the vectors are read from memory
    /// once for all of them. Beyond the caches a scan is bound by memory (about 35 ns a 128-d vector against 13 ns to
    /// measure one in cache), so queries that arrive together share one read (<see cref="SearchTogether"/>).
    /// </summary>
    public IReadOnlyList<VectorNeighbor>[] SearchMany(IReadOnlyList<ExactQuery> queries)
    {
        ArgumentNullException.ThrowIfNull(queries);
        var scans = new QueryScan?[queries.Count];
        for (var q = 0; q < scans.Length; q++)
        {
            scans[q] = Start(queries[q]);
        }

        for (var chunk = 0; chunk * _chunkRows < Count; chunk++)
        {
            var first = chunk * _chunkRows;
            var rows = Math.Min(_chunkRows, Count - first);
            foreach (var scan in scans)
            {
                if (scan is not null)
                {
                    ScanChunk(scan, chunk, first, rows);
                }
            }
        }

        var results = new IReadOnlyList<VectorNeighbor>[scans.Length];
        for (var q = 0; q < scans.Length; q++)
        {
            results[q] = scans[q]?.Drain() ?? [];
        }

        return results;
    }

    /// <summary>A query's scan state; null when it asks for a dataset the index holds no vector of.</summary>
    private QueryScan? Start(ExactQuery query)
    {
        ArgumentOutOfRangeException.ThrowIfNotEqual(query.Vector.Length, Dimension, nameof(query));
        ArgumentOutOfRangeException.ThrowIfLessThan(query.K, 1, nameof(query));
        var datasetId = -1;
        if (query.Dataset is not null && !_datasetIds.TryGetValue(query.Dataset, out datasetId))
        {
            return null;
        }

        var vector = query.Vector;
        if (Metric == HnswMetric.Cosine)
        {
            vector = (float[])vector.Clone();
            Normalize(vector, "query");
        }

        return new QueryScan(vector, query.K, datasetId);
    }

    /// <summary>
    /// One query's state in a scan. Max-heap of the best k so far: the root is the worst kept neighbour, and at equal
    /// distances the one stored last (the highest sequence), so where neighbours tie at the k-th distance those stored
    /// first are kept: the answer does not depend on where removals moved rows.
    /// </summary>
    private sealed class QueryScan(float[] query, int k, int datasetId)
    {
        private readonly PriorityQueue<VectorNeighbor, VectorNeighbor> _best = new(k + 1, WorstFirst);

        public float[] Query { get; } = query;

        public int DatasetId { get; } = datasetId;

        /// <summary>Gets the kept root's distance once k are kept: a row further away is not kept.</summary>
        public float Worst { get; private set; } = float.PositiveInfinity;

        /// <summary>Keeps <paramref name="neighbor"/> when it is among the k nearest so far.</summary>
        public void Offer(VectorNeighbor neighbor)
        {
            if (_best.Count < k)
            {
                _best.Enqueue(neighbor, neighbor);
            }
            else if (WorstFirst.Compare(neighbor, _best.Peek()) > 0)
            {
                _best.EnqueueDequeue(neighbor, neighbor);
            }
            else
            {
                return;
            }

            if (_best.Count == k)
            {
                Worst = _best.Peek().Distance;
            }
        }

        public VectorNeighbor[] Drain()
        {
            var result = new VectorNeighbor[_best.Count];
            for (var i = result.Length - 1; i >= 0; i--)
            {
                result[i] = _best.Dequeue();
            }

            return result;
        }
    }

    /// <summary>
    /// Measures the <paramref name="rows"/> rows of one chunk against a query with the graph's own distance kernels
    /// (<see cref="DistanceKernels"/>: one fused pass per row, the distances an HNSW search of the set computes).
    /// </summary>
    private unsafe void ScanChunk(QueryScan scan, int chunk, int first, int rows)
    {
        var dimension = Dimension;
        var cosine = Metric == HnswMetric.Cosine;
        var datasetId = scan.DatasetId;
        fixed (float* q = scan.Query)
        fixed (float* data = &_chunks[chunk][_chunkStarts[chunk]])
        {
            for (var row = 0; row < rows; row++)
            {
                var slot = first + row;
                if (datasetId >= 0 && _datasets[slot] != datasetId)
                {
                    continue;
                }

                var vector = data + ((nint)row * dimension);
                var distance = cosine ? 1f - DistanceKernels.Dot(q, vector, dimension) : DistanceKernels.SquaredL2(q, vector, dimension);
                if (distance <= scan.Worst)
                {
                    scan.Offer(new VectorNeighbor(_sequences[slot], distance));
                }
            }
        }
    }

    // Orders neighbours worst first: the larger distance, then the higher sequence.
    private static readonly Comparer<VectorNeighbor> WorstFirst = Comparer<VectorNeighbor>.Create(
        static (a, b) => a.Distance != b.Distance ? b.Distance.CompareTo(a.Distance) : b.Sequence.CompareTo(a.Sequence));

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
        return new VectorSnapshot(_chunks[..chunks], _chunkRows, Dimension, _sequences.AsSpan(0, Count).ToArray(), datasets)
        {
            ChunkStarts = _chunkStarts[..chunks],
            InSlab = _inSlab[..chunks],
        };
    }

    private Span<float> Row(int slot)
    {
        var chunk = slot / _chunkRows;
        return _chunks[chunk].AsSpan(_chunkStarts[chunk] + (slot % _chunkRows * Dimension), Dimension);
    }

    /// <summary>The row of <paramref name="slot"/>, its chunk copied first when the last snapshot reads that row.</summary>
    private Span<float> WritableRow(int slot)
    {
        var chunk = slot / _chunkRows;
        if (slot < _snapshotRows && _chunkShared[chunk])
        {
            var copy = new float[_chunkRows * Dimension];
            _chunks[chunk].AsSpan(_chunkStarts[chunk], copy.Length).CopyTo(copy);
            (_chunks[chunk], _chunkStarts[chunk], _inSlab[chunk], _chunkShared[chunk]) = (copy, 0, false, false);
        }

        return Row(slot);
    }

    private static void Normalize(Span<float> vector, string name)
    {
        if (!UnitVector.TryNormalize(vector))
        {
            throw new ArgumentException($"{name} is all zeros, which has no direction under the cosine metric.", name);
        }
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
        if (_chunks.Length > chunk && _chunks[chunk] is not null)
        {
            return; // a chunk is kept when removals empty it (a later append refills it)
        }

        // A chunk is allocated when the first row reaches it: from row 8,192 on with the other chunks of its slab.
        var perSlab = VectorBlocks.SlabRows / _chunkRows;
        var slabbed = VectorBlocks.SlabRows % _chunkRows == 0 && chunk * _chunkRows >= VectorBlocks.SlabsFrom;
        var (first, inArray) = slabbed ? (chunk / perSlab * perSlab, perSlab) : (chunk, 1);
        if (first + inArray > _chunks.Length)
        {
            var length = Math.Max(first + inArray, Math.Max(4, _chunks.Length * 2));
            Array.Resize(ref _chunks, length);
            Array.Resize(ref _chunkStarts, length);
            Array.Resize(ref _inSlab, length);
            Array.Resize(ref _chunkShared, length);
        }

        var floats = _chunkRows * Dimension;
        var array = slabbed ? GC.AllocateArray<float>(VectorBlocks.SlabRows * Dimension, pinned: true) : new float[floats];
        for (var i = 0; i < inArray; i++)
        {
            (_chunks[first + i], _chunkStarts[first + i], _inSlab[first + i]) = (array, i * floats, slabbed);
        }
    }
}

/// <summary>
/// Vectors of an index at one moment: row i (read with <see cref="Row"/>) belongs to <c>Sequences[i]</c>. Chunk c holds
/// <paramref name="ChunkRows"/> rows of <paramref name="Dimension"/> floats, row-major, in <c>Chunks[c]</c> from float
/// <c>ChunkStarts[c]</c>; the last may hold rows past the snapshot's, which it does not read. No one writes a row the
/// snapshot holds again (the index copies a chunk first).
/// </summary>
internal sealed record VectorSnapshot(float[][] Chunks, int ChunkRows, int Dimension, long[] Sequences, string[] Datasets)
{
    /// <summary>Gets where each chunk starts in its array (all 0 unless given).</summary>
    public int[] ChunkStarts { get; init; } = new int[Chunks.Length];

    /// <summary>Gets whether each chunk is part of a pinned slab of <see cref="VectorBlocks.SlabRows"/> rows (none unless given).</summary>
    public bool[] InSlab { get; init; } = new bool[Chunks.Length];

    /// <summary>Gets the vector of row <paramref name="row"/>.</summary>
    public ReadOnlySpan<float> Row(int row)
    {
        var chunk = row / ChunkRows;
        return Chunks[chunk].AsSpan(ChunkStarts[chunk] + (row % ChunkRows * Dimension), Dimension);
    }

    /// <summary>
    /// The pinned slab holding rows <c>slab * 4,096</c> to <c>+4,095</c>, all of them snapshot rows, when their chunks
    /// are still its consecutive parts (none was copied since); null otherwise.
    /// </summary>
    public float[]? WholeSlab(int slab) =>
        VectorBlocks.WholeSlab(Chunks, ChunkStarts, InSlab, ChunkRows, Dimension, Sequences.Length, slab);
}

/// <summary>One query of <see cref="BruteForceVectorIndex.SearchMany"/>: its vector, how many neighbours, which dataset (null: all).</summary>
internal sealed record ExactQuery(float[] Vector, int K, string? Dataset);
