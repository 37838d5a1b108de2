using Chroma.Server.Indexing.Hnsw.Internal;

namespace Chroma.Server.Indexing.Hnsw;

/// <summary>
/// An in-memory HNSW approximate nearest-neighbour index (Malkov and Yashunin, 2016) over float vectors keyed by
/// the caller's <see cref="long"/> keys, each with a small integer tag (e.g. a dataset) that searches can be
/// restricted to.
/// </summary>
/// <remarks>
/// Thread-safety: <see cref="Add"/>, <see cref="Remove"/> and every <c>Search</c> may run concurrently from any
/// number of threads; searches take no locks and see every Add that returned before they started.
/// <see cref="Save(Stream)"/> waits for running writers and holds new ones back while it runs; searches keep running
/// meanwhile. A rebuild (<see cref="Compact"/>, <see cref="BeginRebuild"/>) holds writers back only to start and to hand
/// over; searches run on the old graph until it takes over.
/// </remarks>
internal sealed unsafe partial class HnswIndex : IDisposable
{
    /// <summary>Largest tag value; tags are stored in 16 bits.</summary>
    public const int MaxTag = ushort.MaxValue;

    private readonly ReaderWriterLockSlim _writeGate = new();
    private HnswGraph _graph;

    /// <summary>Creates an empty index.</summary>
    /// <param name="options">Dimension, metric and graph parameters.</param>
    /// <exception cref="ArgumentException">An option is out of range (the message names it).</exception>
    public HnswIndex(HnswOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _graph = new HnswGraph(options);
    }

    private HnswIndex(HnswGraph graph) => _graph = graph;

    /// <summary>The options the index was built with.</summary>
    public HnswOptions Options => Graph.Options;

    /// <summary>Floats per vector.</summary>
    public int Dimension => Graph.Dim;

    /// <summary>Vectors that searches can return (added and not removed).</summary>
    public int Count => Graph.LiveCount;

    /// <summary>Removed vectors still held as tombstones until <see cref="Compact"/>.</summary>
    public int DeletedCount => Graph.NodeCount - Graph.LiveCount;

    /// <summary>Gets the nodes handed out so far, tombstones included (the next node's id).</summary>
    public int NodeCount => Graph.NodeCount;

    private HnswGraph Graph => Volatile.Read(ref _graph);

    /// <summary>The graph itself, for diagnostics (the benchmarks' <c>cluster-islands</c>).</summary>
    internal HnswGraph GraphForDiagnostics => Graph;

    /// <summary>Live vectors with <paramref name="tag"/>.</summary>
    public int CountWithTag(int tag)
    {
        ValidateTag(tag, nameof(tag));
        return Graph.LiveCountForTag(tag);
    }

    /// <summary>Adds a vector under a new key.</summary>
    /// <param name="key">The caller's identifier, returned by searches; must not be in the index already.</param>
    /// <param name="vector">Exactly <see cref="Dimension"/> finite floats (non-zero for cosine); copied.</param>
    /// <param name="tag">Partition the vector belongs to, 0..<see cref="MaxTag"/>.</param>
    /// <exception cref="ArgumentException">Wrong length, NaN/infinity, zero vector under cosine, bad tag or duplicate key.</exception>
    public void Add(long key, ReadOnlySpan<float> vector, int tag = 0)
    {
        ValidateVector(vector, nameof(vector));
        ValidateTag(tag, nameof(tag));
        _writeGate.EnterReadLock();
        try
        {
            HnswGraph graph = _graph;
            int node = graph.Reserve(key, tag);
            if (Options.Metric == HnswMetric.L2)
            {
                graph.Insert<L2Distance>(node, vector);
            }
            else
            {
                Span<float> stored = graph.Nodes.VectorSpan(node);
                vector.CopyTo(stored);
                if (Options.Metric == HnswMetric.Cosine)
                {
                    UnitVector.TryNormalize(stored); // ValidateVector saw a direction
                }

                graph.Insert<DotDistance>(node, stored);
            }
        }
        finally
        {
            _writeGate.ExitReadLock();
        }
    }

    /// <summary>Removes a key: it is never returned again and its slot is reclaimed by <see cref="Compact"/>.</summary>
    /// <returns>False when the key was not in the index.</returns>
    public bool Remove(long key)
    {
        _writeGate.EnterReadLock();
        try
        {
            if (!_graph.Remove(key))
            {
                return false;
            }

            // A rebuild copies from this graph: it removes the key from its own when it takes over.
            Volatile.Read(ref _rebuild)?.Removed(key);
            return true;
        }
        finally
        {
            _writeGate.ExitReadLock();
        }
    }

    /// <summary>Whether <paramref name="key"/> is in the index (added and not removed).</summary>
    public bool Contains(long key) => Graph.Contains(key);

    /// <summary>Finds up to <paramref name="k"/> nearest vectors, nearest first.</summary>
    /// <param name="query">Exactly <see cref="Dimension"/> finite floats.</param>
    /// <param name="k">Number of neighbours wanted, at least 1.</param>
    /// <param name="tag">Only vectors with this tag qualify; null for all.</param>
    /// <param name="ef">Beam width; 0 uses <see cref="HnswOptions.EfSearch"/>. Raised to k when smaller.</param>
    public HnswSearchResult[] Search(ReadOnlySpan<float> query, int k, int? tag = null, int ef = 0) =>
        Nearest(query, k, tag, ef);

    /// <summary>Allocation-free search: fills <paramref name="results"/> (k = its length), nearest first.</summary>
    /// <returns>How many results were written (fewer than k when fewer vectors qualify).</returns>
    public int Search(ReadOnlySpan<float> query, Span<HnswSearchResult> results, int? tag = null, int ef = 0)
        => SearchCore(query, results, tag, ef, exact: false);

    /// <summary>
    /// Finds up to <paramref name="k"/> nearest vectors, nearest first, with a walk of beam <paramref name="ef"/> that
    /// starts from the nodes nearest the query among an even sample of the graph as well as where the descent ends: for
    /// queries far from the data, where the descent alone leads the walk astray (see HnswGraph.SeedFromSample).
    /// </summary>
    /// <param name="query">Exactly <see cref="Dimension"/> finite floats.</param>
    /// <param name="k">Number of neighbours wanted, at least 1.</param>
    /// <param name="ef">Beam width; 0 uses <see cref="HnswOptions.EfSearch"/>. Raised to k when smaller.</param>
    /// <param name="sampleSize">How many nodes the sample holds, about; null: <see cref="FarSampleSize"/> for the graph's size (the benchmarks try others).</param>
    public HnswSearchResult[] SearchFromSample(ReadOnlySpan<float> query, int k, int ef, int? sampleSize = null)
    {
        var size = sampleSize ?? FarSampleSize(Graph.NodeCount);
        ArgumentOutOfRangeException.ThrowIfLessThan(size, 1, nameof(sampleSize));
        return Nearest(query, k, null, ef, size);
    }

    /// <summary>Exact k nearest by scanning every live vector (reference for recall, and for tiny subsets).</summary>
    public HnswSearchResult[] SearchExactly(ReadOnlySpan<float> query, int k, int? tag = null)
    {
        if (k < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(k), k, "k must be at least 1.");
        }

        var buffer = new HnswSearchResult[k];
        int found = SearchCore(query, buffer, tag, 0, exact: true);
        return buffer[..found];
    }

    /// <summary>
    /// Exact k nearest live vectors of each query, as <see cref="SearchExactly(ReadOnlySpan{float}, int, int?)"/> would
    /// answer each, in one pass over the stored vectors for all of them (the recall estimate's truth).
    /// </summary>
    public HnswSearchResult[][] SearchExactly(IReadOnlyList<float[]> queries, int k)
    {
        ArgumentNullException.ThrowIfNull(queries);
        if (k < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(k), k, "k must be at least 1.");
        }

        HnswGraph graph = Graph;
        var packed = new float[(long)queries.Count * Dimension];
        for (int q = 0; q < queries.Count; q++)
        {
            ValidateVector(queries[q], nameof(queries));
            Span<float> slot = packed.AsSpan(q * Dimension, Dimension);
            queries[q].CopyTo(slot);
            if (graph.Options.Metric == HnswMetric.Cosine)
            {
                UnitVector.TryNormalize(slot); // ValidateVector saw a direction
            }
        }

        fixed (float* q = packed)
        {
            var found = graph.Options.Metric == HnswMetric.L2
                ? graph.SearchExactlyMany<L2Distance>(q, queries.Count, k)
                : graph.SearchExactlyMany<DotDistance>(q, queries.Count, k);
            GC.KeepAlive(graph);
            return found;
        }
    }

    /// <summary>Approximate memory held: vectors, and everything else (links, keys, tags, flags, key map).</summary>
    public HnswMemoryUsage MemoryUsage()
    {
        (long vectors, long graph) = Graph.MemoryUsage();
        return new HnswMemoryUsage(vectors, graph);
    }

    /// <summary>Releases the writer gate.</summary>
    public void Dispose() => _writeGate.Dispose();

    /// <summary>
    /// How many nodes <see cref="SearchFromSample"/> measures to seed its walk in a graph of <paramref name="nodes"/> nodes:
    /// one in 64, from 4,096 to 16,384 (0.1-0.6 ms at 128 floats). Far queries at a million clustered records found 0.873
    /// of their ten nearest with 1,024, 0.955 with 4,096 and 0.985 with 16,384 (`recall-estimate`).
    /// </summary>
    internal static int FarSampleSize(int nodes) => Math.Clamp(nodes / 64, 4_096, 16_384);

    /// <summary>How many of the sample's nearest nodes seed the walk of <see cref="SearchFromSample"/>.</summary>
    internal const int FarSeedCount = 32;

    // Up to k nearest, as an array no longer than the live vectors.
    private HnswSearchResult[] Nearest(ReadOnlySpan<float> query, int k, int? tag, int ef, int sampleSize = 0)
    {
        if (k < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(k), k, "k must be at least 1.");
        }

        var buffer = new HnswSearchResult[Math.Min(k, Math.Max(Graph.LiveCount, 1))];
        int found = SearchCore(query, buffer, tag, ef, exact: false, sampleSize);
        return found == buffer.Length ? buffer : buffer[..found];
    }

    // sampleSize above 0: the walk is also seeded from a sample of the nodes (HnswGraph.SeedFromSample).
    private int SearchCore(ReadOnlySpan<float> query, Span<HnswSearchResult> results, int? tag, int ef, bool exact, int sampleSize = 0)
    {
        ValidateVector(query, nameof(query));
        if (ef < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(ef), ef, "ef must not be negative.");
        }

        int tagFilter = -1;
        if (tag is int t)
        {
            ValidateTag(t, nameof(tag));
            tagFilter = t;
        }

        HnswGraph graph = Graph;
        ef = ef == 0 ? graph.Options.EfSearch : ef;
        int found;
        if (graph.Options.Metric == HnswMetric.L2)
        {
            fixed (float* q = query)
            {
                found = exact
                    ? graph.SearchExactly<L2Distance>(q, tagFilter, results)
                    : graph.Search<L2Distance>(q, ef, tagFilter, results, sampleSize, FarSeedCount);
            }
        }
        else
        {
            float[] buffer = SearchScratch.ForCurrentThread().QueryBuffer(query.Length);
            Span<float> normalised = buffer.AsSpan(0, query.Length);
            query.CopyTo(normalised);
            if (graph.Options.Metric == HnswMetric.Cosine)
            {
                UnitVector.TryNormalize(normalised); // ValidateVector saw a direction
            }

            fixed (float* q = normalised)
            {
                found = exact
                    ? graph.SearchExactly<DotDistance>(q, tagFilter, results)
                    : graph.Search<DotDistance>(q, ef, tagFilter, results, sampleSize, FarSeedCount);
            }
        }

        GC.KeepAlive(graph);
        return found;
    }

    private void ValidateVector(ReadOnlySpan<float> vector, string name)
    {
        if (vector.Length != Dimension)
        {
            throw new ArgumentException($"{name} has {vector.Length} values but the index dimension is {Dimension}.", name);
        }

        for (int i = 0; i < vector.Length; i++)
        {
            if (!float.IsFinite(vector[i]))
            {
                throw new ArgumentException($"{name}[{i}] is {vector[i]}; vectors must be finite (no NaN or infinity).", name);
            }
        }

        if (Options.Metric == HnswMetric.Cosine && !UnitVector.HasDirection(vector))
        {
            throw new ArgumentException($"{name} is all zeros, which has no direction under the cosine metric.", name);
        }
    }

    private static void ValidateTag(int tag, string name)
    {
        if (tag is < 0 or > MaxTag)
        {
            throw new ArgumentOutOfRangeException(name, tag, $"Tags must be in 0..{MaxTag}.");
        }
    }
}
