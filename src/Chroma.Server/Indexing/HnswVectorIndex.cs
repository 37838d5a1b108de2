using Chroma.Server.Indexing.Hnsw;
using Chroma.Server.Indexing.Internal;

namespace Chroma.Server.Indexing;

/// <summary>
/// <see cref="IVectorIndex"/> over an <see cref="HnswIndex"/> ranking by the set's metric (squared L2, or cosine distance):
/// record sequences are the keys and each dataset name gets a small tag, so a dataset filter is a tag filter.
/// Thread-safe: adds, removes and searches may run at once (the graph is; the tag map takes a lock).
/// </summary>
internal sealed class HnswVectorIndex : IVectorIndex, IDisposable
{
    private readonly Lock _tagLock = new();
    private readonly Dictionary<string, int> _tags;
    private RecallEstimate? _estimate;
    private int _addsSinceReconnect;
    private bool _neverReconnected;

    /// <summary>Creates an empty index for vectors of <paramref name="dimension"/> under <paramref name="metric"/> (L2 or cosine).</summary>
    public HnswVectorIndex(int dimension, HnswMetric metric = HnswMetric.L2)
        : this(new HnswIndex(new HnswOptions { Dimension = dimension, Metric = metric }), new Dictionary<string, int>(StringComparer.Ordinal))
    {
    }

    /// <summary>Wraps a loaded <paramref name="index"/> whose tags were given by <paramref name="tags"/>.</summary>
    public HnswVectorIndex(HnswIndex index, IReadOnlyDictionary<string, int> tags)
    {
        ArgumentNullException.ThrowIfNull(index);
        ArgumentNullException.ThrowIfNull(tags);
        if (index.Options.Metric is not (HnswMetric.L2 or HnswMetric.Cosine))
        {
            throw new ArgumentException($"An embedding set index ranks by squared L2 or cosine distance, not {index.Options.Metric}.", nameof(index));
        }

        Graph = index;
        _tags = new Dictionary<string, int>(tags, StringComparer.Ordinal);

        // A graph from a file may come from a version that did not link unreachable nodes in: check it once.
        _neverReconnected = index.Count > 0;
    }

    /// <summary>
    /// Gets the least number of vectors added since the last <see cref="Reconnect"/> after which another is due
    /// (or an eighth of the graph, if more). The default value is 4 096.
    /// </summary>
    public static int ReconnectEvery { get; } = 4_096;

    /// <summary>Gets the graph (for saving).</summary>
    public HnswIndex Graph { get; }

    /// <inheritdoc />
    public int Dimension => Graph.Dimension;

    /// <summary>Gets the metric the graph ranks by (the set's).</summary>
    public HnswMetric Metric => Graph.Options.Metric;

    /// <inheritdoc />
    public int Count => Graph.Count;

    /// <summary>Gets or sets the latest recall estimate (null until one ran); its breadth is the default of searches.</summary>
    public RecallEstimate? Estimate
    {
        get => Volatile.Read(ref _estimate);
        set => Volatile.Write(ref _estimate, value);
    }

    /// <summary>Gets whether the graph was read from a file and no <see cref="Reconnect"/> has run on it yet.</summary>
    public bool NeverReconnected => Volatile.Read(ref _neverReconnected);

    /// <summary>
    /// Gets how many vectors were added since the last <see cref="Reconnect"/> (for the file's header), or null when none
    /// ran on this graph (read from a file that did not record one): the next load then checks it once more. Set when
    /// the graph is read from a file, to what its header recorded: a graph saved after a check is not checked again at
    /// every start, only once the vectors added since reach the usual share; null (files of older versions) leaves it
    /// to be checked once.
    /// </summary>
    public int? AddsSinceReconnect
    {
        get => NeverReconnected ? null : Volatile.Read(ref _addsSinceReconnect);
        init
        {
            if (value is { } adds && Graph.Count > 0)
            {
                _addsSinceReconnect = Math.Max(0, adds);
                _neverReconnected = false;
            }
        }
    }

    /// <summary>
    /// Gets whether a <see cref="Reconnect"/> is due: vectors added since the last one reach an eighth of the graph
    /// (at least <see cref="ReconnectEvery"/>), so the walk over the graph it costs stays a small share of the inserts'
    /// cost; or the graph was read from a file and not checked yet.
    /// </summary>
    public bool ReconnectDue =>
        NeverReconnected || Volatile.Read(ref _addsSinceReconnect) >= Math.Max(ReconnectEvery, Graph.Count / 8);

    /// <summary>Gets the default search breadth: the estimated one, else the graph's <see cref="HnswOptions.EfSearch"/> (64).</summary>
    public int SearchBreadth => Estimate?.SearchBreadth ?? Graph.Options.EfSearch;

    /// <summary>
    /// Whether the nearest vector a default search found lies more than <see cref="FarFactor"/> times the estimate's
    /// <see cref="RecallEstimate.NearDistance"/> from the query: a query between clusters or off the data's scale, for
    /// which the default breadth (picked for queries near the data) is too narrow.
    /// </summary>
    internal bool IsFar(HnswSearchResult[] found, RecallEstimate? estimate)
    {
        if (found.Length == 0 || estimate is not { NearDistance: > 0 } known)
        {
            return false;
        }

        // Under cosine the stored vectors and the query are unit, where |a - b|^2 = 2 (1 - cos).
        var squared = Metric == HnswMetric.Cosine ? 2 * found[0].Distance : found[0].Distance;
        return MathF.Sqrt(Math.Max(0f, squared)) > FarFactor * known.NearDistance;
    }

    /// <summary>
    /// How many times the estimate's near distance a query's nearest found vector may lie before the search is widened:
    /// 1.5 widened 0-1 of 300 fresh queries on seven sets of `recall-estimate` and nearly every query between clusters;
    /// 3 left those at 0.63 recall@10.
    /// </summary>
    internal const float FarFactor = 1.5f;

    /// <summary>
    /// The beam a far query is searched again with: four times the default's, at least <see cref="FarMinBeam"/>
    /// (1,024), at most 10,000. Queries between the clusters of a clustered set or at ten times its scale got 0.46-0.74
    /// recall@10 at breadth 64 and 0.98-0.995 at 1,024 (outside-in probe J; hnswlib alike). Only searches without a
    /// dataset filter: a filtered subset's nearest member can lie far from a query near the data.
    /// </summary>
    internal static int FarBeam(int beam) => Math.Min(10_000, Math.Max(4 * beam, FarMinBeam));

    /// <summary>The narrowest beam a far query is searched again with.</summary>
    internal const int FarMinBeam = 1024;

    /// <summary>
    /// Whether a default search is answered by an exact scan of the graph's <paramref name="nodes"/> (deleted ones
    /// included: the scan passes them) instead of a walk with <paramref name="beam"/>: when the nodes are no more than the
    /// distances that walk computes, about the beam times the bottom layer's links (2 <paramref name="m"/>). A scan reads
    /// the vectors in order and costs no more per distance than the walk's scattered reads, so there it is exact for no
    /// more time; beyond, the walk stays. On the 30,000-record sets of `recall-estimate` the walk with a far query's
    /// beam took 1.0-6.7 ms and the scan 0.6-1.9 ms, and the walk found only 0.74-0.99 of the ten nearest at ten times the
    /// data's scale (benchmarks README).
    /// </summary>
    internal static bool ScanCostsNoMore(int nodes, int beam, int m) => (long)nodes <= (long)beam * 2 * m;

    /// <summary>
    /// The beam of a search for <paramref name="k"/> neighbours at the set's default <paramref name="breadth"/>, which
    /// is picked for 10: <c>max(breadth, k)</c> up to 10, times <c>1 + log10(k / 10)</c> beyond (twice for 100, three
    /// times for 1,000; at most 10,000, the widest a request may ask for). A beam of just k found 0.88-0.97 of the 100
    /// nearest on sets where the default served 10 at 0.95 or more (`recall-estimate --k 100`, benchmarks README).
    /// </summary>
    internal static int DefaultBeam(int breadth, int k) =>
        k <= 10 ? Math.Max(breadth, k) : (int)Math.Min(10_000, Math.Ceiling(Math.Max(breadth, k) * (1 + Math.Log10(k / 10.0))));

    /// <summary>A copy of the dataset-to-tag map (saved next to the graph).</summary>
    public IReadOnlyDictionary<string, int> Tags
    {
        get
        {
            lock (_tagLock)
            {
                return new Dictionary<string, int>(_tags, StringComparer.Ordinal);
            }
        }
    }

    /// <inheritdoc />
    public void Add(long sequence, ReadOnlySpan<float> vector, string dataset)
    {
        var tag = TagOf(dataset);

        // Replace = remove + add: the old node stays as a tombstone until compaction.
        Graph.Remove(sequence);
        Graph.Add(sequence, vector, tag);
        Interlocked.Increment(ref _addsSinceReconnect);
    }

    /// <summary>
    /// Links in the graph's nodes that no search could reach (<see cref="HnswIndex.Reconnect"/>); adds wait meanwhile.
    /// Nodes close to one another inserted at the same time (the parallel build, a batch applied in parallel) can
    /// leave one of them with no in-link.
    /// </summary>
    public ReconnectResult Reconnect()
    {
        // The marks move once the pass is done (a save prepared meanwhile records the graph as not yet checked, which it
        // then is not); vectors added while the pass waited for the graph count towards the next one.
        var addsBefore = Volatile.Read(ref _addsSinceReconnect);
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        var (linked, unreachable) = Graph.Reconnect();
        if (Interlocked.Add(ref _addsSinceReconnect, -addsBefore) < 0)
        {
            // Two passes at once (a batch's link and the periodic one) both took the same count off.
            Volatile.Write(ref _addsSinceReconnect, 0);
        }

        Volatile.Write(ref _neverReconnected, false);
        return new ReconnectResult(linked, unreachable, System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalMilliseconds);
    }

    /// <summary>
    /// Links in those of <paramref name="added"/>'s vectors (just added) that a search for their own vector may not
    /// return: none of their own layer-0 neighbours links back to them, and a search at the default breadth does not
    /// return them among the nearest. Such a node may have no in-link at all (a neighbour's list, pruned by an insert
    /// beside it, dropped it), and no search would find it until <see cref="Reconnect"/>. Each is linked in from the
    /// nearest reachable node with room (<see cref="HnswIndex.LinkIn"/>). So is each older node that the inserts since
    /// <see cref="TrackDroppedLinks"/> pruned from a neighbour's list and that none of its neighbours links back to any
    /// more: it was searchable before them. Returns how many could not be linked in (every such node full), for which
    /// the caller runs <see cref="Reconnect"/>.
    /// </summary>
    public int LinkInPossiblyUnreachable(VectorBatch added)
    {
        ArgumentNullException.ThrowIfNull(added);
        var count = 0;
        for (var i = 0; i < added.Count; i++)
        {
            var sequence = added.Sequence(i);
            if (added.IsRemoval(i) || Graph.LinkedBack(sequence))
            {
                continue;
            }

            var found = Graph.Search(added.Vector(i), SelfCheckDepth, tag: null, ef: Math.Max(SearchBreadth, SelfCheckDepth));
            if (!found.Any(r => r.Key == sequence) && !Graph.LinkIn(sequence))
            {
                count++;
            }
        }

        return count + Graph.LinkInDropped();
    }

    /// <summary>
    /// Starts collecting the nodes that the next inserts prune from a neighbour's list, for
    /// <see cref="LinkInPossiblyUnreachable"/> to check.
    /// </summary>
    public void TrackDroppedLinks() => Graph.TrackDroppedLinks();

    // How many nearest a self-check looks through (copies of a vector all lie at distance 0).
    private const int SelfCheckDepth = 8;

    /// <inheritdoc />
    public bool Remove(long sequence) => Graph.Remove(sequence);

    /// <summary>
    /// Lets this empty index use <paramref name="snapshot"/>'s pinned slabs as its vectors instead of copying them
    /// (see <see cref="HnswIndex.AdoptVectors"/>); returns how many rows go in first and in order, with
    /// <see cref="ReserveAdopted"/> and <see cref="LinkAdopted"/>, and how many of them are read in place.
    /// </summary>
    public (int InOrder, int Adopted) AdoptVectors(VectorSnapshot snapshot)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        return snapshot.Dimension == Dimension ? Graph.AdoptVectors(snapshot.Sequences.Length, snapshot.WholeSlab) : (0, 0);
    }

    /// <summary>
    /// Lets a graph of exactly <paramref name="firstRow"/> nodes read its next rows in place from <paramref name="slabs"/>
    /// (4,096 rows each; see <see cref="HnswIndex.AdoptMoreVectors"/>); false when it cannot.
    /// </summary>
    public bool AdoptMoreVectors(int firstRow, IReadOnlyList<float[]> slabs)
    {
        ArgumentNullException.ThrowIfNull(slabs);
        return slabs.All(slab => slab.Length == VectorBlocks.SlabRows * Dimension) && Graph.AdoptMoreVectors(firstRow, slabs);
    }

    /// <summary>Reserves row <paramref name="row"/> for <paramref name="sequence"/>; returns its node for <see cref="LinkAdopted"/>.</summary>
    public int ReserveAdopted(long sequence, int row, string dataset) => Graph.ReserveAdopted(sequence, row, TagOf(dataset));

    /// <summary>Links in a node <see cref="ReserveAdopted"/> gave, copying <paramref name="stored"/> where its chunk has no slab.</summary>
    public void LinkAdopted(int node, ReadOnlySpan<float> stored)
    {
        Graph.LinkAdopted(node, stored);
        Interlocked.Increment(ref _addsSinceReconnect);
    }

    /// <inheritdoc />
    public IReadOnlyList<VectorNeighbor> Search(ReadOnlySpan<float> query, int k, string? dataset = null, NearestSearchOptions options = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(k, 1);
        int? tag = null;
        if (dataset is not null)
        {
            lock (_tagLock)
            {
                if (!_tags.TryGetValue(dataset, out var known))
                {
                    return [];
                }

                tag = known;
            }
        }

        // The beam must be at least k wide or the graph walk cannot return k neighbours.
        HnswSearchResult[] found;
        if (options.Exact)
        {
            found = Graph.SearchExactly(query, k, tag);
        }
        else if (options.Breadth > 0)
        {
            found = Graph.Search(query, k, tag, Math.Max(options.Breadth, k));
        }
        else
        {
            // A filtered walk decides on its own whether its subset is scanned (HnswGraph.ScansSubset).
            var beam = DefaultBeam(SearchBreadth, k);
            var nodes = Graph.Count + Graph.DeletedCount;
            if (tag is null && ScanCostsNoMore(nodes, beam, Graph.Options.M))
            {
                found = Graph.SearchExactly(query, k);
            }
            else
            {
                found = Graph.Search(query, k, tag, beam);
                if (tag is null && IsFar(found, Estimate))
                {
                    var wide = FarBeam(beam);
                    found = ScanCostsNoMore(nodes, wide, Graph.Options.M) ? Graph.SearchExactly(query, k) : Graph.SearchFromSample(query, k, wide);
                }
            }
        }

        var result = new VectorNeighbor[found.Length];
        for (var i = 0; i < found.Length; i++)
        {
            result[i] = new VectorNeighbor(found[i].Key, found[i].Distance);
        }

        return result;
    }

    /// <summary>
    /// Gets whether tombstones outnumber the live vectors (and are more than 1,024): a rebuild without them is due
    /// (<see cref="HnswIndex.BeginRebuild"/>). Searches walk past tombstones, so until then they cost more and find the
    /// same.
    /// </summary>
    public bool MostlyDeleted => IsMostlyDeleted(Graph.DeletedCount, Graph.Count);

    /// <summary>The rule of <see cref="MostlyDeleted"/>: <paramref name="deleted"/> vectors outnumber the <paramref name="live"/> ones, and 1,024.</summary>
    public static bool IsMostlyDeleted(long deleted, long live) => deleted > Math.Max(live, 1024);

    /// <inheritdoc />
    public void Dispose() => Graph.Dispose();

    private int TagOf(string dataset)
    {
        lock (_tagLock)
        {
            if (_tags.TryGetValue(dataset, out var tag))
            {
                return tag;
            }

            tag = _tags.Count;
            if (tag > HnswIndex.MaxTag)
            {
                throw new InvalidOperationException($"An embedding set index holds at most {HnswIndex.MaxTag + 1} datasets.");
            }

            _tags[dataset] = tag;
            return tag;
        }
    }
}

/// <summary>What a <see cref="HnswVectorIndex.Reconnect"/> pass did.</summary>
/// <param name="Linked">Nodes no search could reach that were linked in.</param>
/// <param name="Unreachable">Live nodes still unreachable (no reachable node could take a link to them; normally 0).</param>
/// <param name="ElapsedMs">Time the pass took, adds waiting.</param>
internal readonly record struct ReconnectResult(int Linked, int Unreachable, double ElapsedMs);
