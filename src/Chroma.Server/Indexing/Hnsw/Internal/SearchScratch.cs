namespace Chroma.Server.Indexing.Hnsw.Internal;

/// <summary>
/// Per-thread search state: a generation-stamped visited array (reset is one increment, not a clear),
/// the two heaps and a buffer for a normalised query. One instance per thread, so searches allocate nothing
/// beyond their result once warmed up.
/// </summary>
internal sealed class SearchScratch
{
    [ThreadStatic]
    private static SearchScratch? t_current;

    private int[] _visited = [];
    private int _generation;

    public MaxHeap Results { get; } = new();

    public MaxHeap Candidates { get; } = new();

    /// <summary>Holds up to M0+1 candidates while the neighbour-selection heuristic runs.</summary>
    public List<(float Distance, int Node)> Selection { get; } = new(256);

    /// <summary>Old neighbours plus the new node while a full list is pruned.</summary>
    public List<(float Distance, int Node)> Pruned { get; } = new(256);

    /// <summary>Output of the heuristic before it is copied back.</summary>
    public List<(float Distance, int Node)> Kept { get; } = new(256);

    /// <summary>The nodes an upper-layer beam hands to the next layer's search, nearest first.</summary>
    public List<int> Seeds { get; } = new(16);

    public float[] Query { get; private set; } = [];

    public static SearchScratch ForCurrentThread() => t_current ??= new SearchScratch();

    public float[] QueryBuffer(int dim)
    {
        if (Query.Length < dim)
        {
            Query = GC.AllocateArray<float>(dim, pinned: true);
        }

        return Query;
    }

    /// <summary>Starts a new search over node ids below <paramref name="capacity"/>.</summary>
    public void ResetVisited(int capacity)
    {
        if (_visited.Length < capacity)
        {
            _visited = new int[Math.Max(capacity, _visited.Length * 2)];
            _generation = 0;
        }

        _generation++;
        if (_generation == int.MaxValue)
        {
            Array.Clear(_visited);
            _generation = 1;
        }
    }

    /// <summary>Marks <paramref name="node"/> visited; returns false when it already was.</summary>
    public bool TryVisit(int node)
    {
        ref int stamp = ref _visited[node];
        if (stamp == _generation)
        {
            return false;
        }

        stamp = _generation;
        return true;
    }
}
