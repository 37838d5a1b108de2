namespace Chroma.Server.Indexing.Hnsw.Internal;

/// <summary>
/// The graph and its storage. Thread-safety model (the same as hnswlib's): inserts reserve a node id under a
/// short key lock, then link it holding one striped lock at a time; only an insert that raises the top level
/// holds the entry lock for its whole run. Searches take no locks: a link list is published by writing its ids
/// before its count, and every id ever written refers to a node whose vector is already stored.
/// </summary>
internal sealed unsafe partial class HnswGraph
{
    // 1024 stripes: with a handful of inserting threads collisions stay rare, and an index costs ~50 KiB of
    // locks instead of ~0.8 MiB (16 384), which matters with one index per embedding set.
    private const int LockStripes = 1 << 10;
    private const int MaxLevel = 31;
    private const long EmptyEntry = -1;
    private const float CosineIdenticalWithin = 1e-6f;

    private readonly NodeStore _nodes;
    private readonly KeyTable _idsByKey;
    private readonly Lock _keyLock = new();
    private readonly Lock _entryLock = new();
    private readonly Lock[] _linkLocks;
    private readonly int[] _liveByTag = new int[ushort.MaxValue + 1];
    private readonly double _levelMultiplier;
    private readonly ulong _seed;
    private int _count;
    private int _liveCount;
    private long _entry = EmptyEntry;

    public HnswGraph(HnswOptions options)
    {
        Options = options;
        Dim = options.Dimension;
        M = options.M;
        M0 = 2 * options.M;
        _nodes = new NodeStore(Dim, M);
        _idsByKey = new KeyTable(_nodes);
        _levelMultiplier = 1.0 / Math.Log(M);
        IdenticalWithin = options.Metric switch
        {
            HnswMetric.L2 => 0f,
            HnswMetric.Cosine => CosineIdenticalWithin,
            _ => float.NegativeInfinity, // 1 - dot: a vector's distance to itself is not 0, copies are not told apart
        };
        _seed = (ulong)options.Seed;
        _linkLocks = new Lock[LockStripes];
        for (int i = 0; i < _linkLocks.Length; i++)
        {
            _linkLocks[i] = new Lock();
        }
    }

    public HnswOptions Options { get; }

    public int Dim { get; }

    public int M { get; }

    public int M0 { get; }

    public NodeStore Nodes => _nodes;

    /// <summary>
    /// Distance from a node at or below which a candidate is a copy of it: 0 for squared L2; under cosine, rounding
    /// leaves about 1e-7 between normalised copies, so 1e-6 (an angle of 0.08 degrees). Never under inner product.
    /// </summary>
    public float IdenticalWithin { get; }

    /// <summary>Node ids handed out so far, tombstones included.</summary>
    public int NodeCount => Volatile.Read(ref _count);

    public int LiveCount => Volatile.Read(ref _liveCount);

    public int LiveCountForTag(int tag) => Volatile.Read(ref _liveByTag[tag]);

    /// <summary>Reserves a node for <paramref name="key"/>; throws when the key is already present.</summary>
    public int Reserve(long key, int tag)
    {
        lock (_keyLock)
        {
            if (_idsByKey.TryGet(key, out _))
            {
                throw new ArgumentException($"Key {key} is already in the index; remove it first to replace its vector.", nameof(key));
            }

            int id = _count;
            if (id == int.MaxValue)
            {
                throw new InvalidOperationException("The index is full (2^31 - 1 nodes).");
            }

            _nodes.EnsureCapacity(id + 1);
            _nodes.Key(id) = key;
            _nodes.Tag(id) = (ushort)tag;
            _idsByKey.Add(key, id);
            _liveCount++;
            _liveByTag[tag]++;
            Volatile.Write(ref _count, id + 1);
            return id;
        }
    }

    public bool Remove(long key)
    {
        lock (_keyLock)
        {
            if (!_idsByKey.Remove(key, out int id))
            {
                return false;
            }

            Volatile.Write(ref _nodes.Deleted(id), 1);
            _liveCount--;
            _liveByTag[_nodes.Tag(id)]--;
            return true;
        }
    }

    public bool Contains(long key) => TryGetNode(key, out _);

    /// <summary>The node of <paramref name="key"/>, when the key is in the graph.</summary>
    private bool TryGetNode(long key, out int node)
    {
        lock (_keyLock)
        {
            return _idsByKey.TryGet(key, out node);
        }
    }

    /// <summary>Level from a hash of (seed, node id): thread-safe and reproducible for a given insertion order.</summary>
    public int DrawLevel(int node)
    {
        ulong z = _seed + ((ulong)(uint)node * 0x9E3779B97F4A7C15UL) + 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        z ^= z >> 31;
        double u = ((z >> 11) + 1) * (1.0 / (1UL << 53));
        return Math.Min(MaxLevel, (int)(-Math.Log(u) * _levelMultiplier));
    }

    /// <summary>Bytes held by vectors (used slots) and by everything else per node (links, keys, flags, key map).</summary>
    public (long VectorBytes, long GraphBytes) MemoryUsage()
    {
        long n = NodeCount;
        long vectors = n * Dim * sizeof(float);
        long perNode = (_nodes.Level0Stride * sizeof(int)) + sizeof(long) + sizeof(ushort) + 3 + IntPtr.Size;
        long upper = 0;
        for (int i = 0; i < n; i++)
        {
            int[]? links = _nodes.UpperLinks(i);
            if (links is not null)
            {
                upper += (links.Length * sizeof(int)) + 24;
            }
        }

        return (vectors, (n * perNode) + upper + _idsByKey.Bytes);
    }

    /// <summary>Packed entry point (level in the high half) as the file format stores it.</summary>
    public long EntryForPersistence => Volatile.Read(ref _entry);

    /// <summary>Rebuilds the key map and counters after the file format filled the node store.</summary>
    public void RestoreAfterLoad(int count, long entry)
    {
        for (int node = 0; node < count; node++)
        {
            long key = _nodes.Key(node);
            if (_nodes.Deleted(node) != 0)
            {
                continue;
            }

            if (_idsByKey.TryGet(key, out _))
            {
                throw new InvalidDataException($"HNSW index file holds key {key} twice.");
            }

            _idsByKey.Add(key, node);

            _liveCount++;
            _liveByTag[_nodes.Tag(node)]++;
        }

        if (count > 0 && (EntryNode(entry) >= count || EntryNode(entry) < 0))
        {
            throw new InvalidDataException($"HNSW index file entry point {EntryNode(entry)} is outside its {count} nodes.");
        }

        _count = count;
        _entry = count == 0 ? EmptyEntry : entry;
    }

    private static long PackEntry(int node, int level) => ((long)level << 32) | (uint)node;

    private static int EntryNode(long entry) => (int)(entry & 0xFFFFFFFF);

    private static int EntryLevel(long entry) => (int)(entry >> 32);

    private Lock LinkLock(int node) => _linkLocks[node & (LockStripes - 1)];
}
