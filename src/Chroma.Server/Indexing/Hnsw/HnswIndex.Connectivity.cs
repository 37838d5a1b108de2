using Chroma.Server.Indexing.Hnsw.Internal;

namespace Chroma.Server.Indexing.Hnsw;

/// <summary>How well layer 0 is connected: nodes a search from the entry point can never reach, and linking them in.</summary>
internal sealed partial class HnswIndex
{
    /// <summary>
    /// Links every live node that a search could never reach (see <see cref="Connectivity"/>) into the graph, so
    /// every live vector can be returned. Writers wait meanwhile; searches keep running. Cheap when there is nothing
    /// to do: one walk over layer 0.
    /// </summary>
    /// <returns>How many nodes were linked in, and how many live ones stay unreachable (normally none).</returns>
    public (int Linked, int Unreachable) Reconnect()
    {
        _writeGate.EnterWriteLock();
        try
        {
            return ReconnectGraph(_graph);
        }
        finally
        {
            _writeGate.ExitWriteLock();
        }
    }

    /// <summary>The pass on <paramref name="graph"/> under its metric's distance; the caller holds writers back.</summary>
    private static (int Linked, int Unreachable) ReconnectGraph(HnswGraph graph) =>
        graph.Options.Metric == HnswMetric.L2 ? graph.Reconnect<L2Distance>() : graph.Reconnect<DotDistance>();

    /// <summary>
    /// Whether <paramref name="key"/>'s node is linked to by one of its own layer-0 neighbours (see
    /// <see cref="HnswGraph.LinkedBack"/>); true for an unknown key. Searches and writers may run meanwhile.
    /// </summary>
    public bool LinkedBack(long key) => Graph.LinkedBack(key);

    /// <summary>
    /// Links <paramref name="key"/>'s node in from the nearest reachable node with room in its list (see
    /// <see cref="HnswGraph.LinkInFromNearestWithRoom{TDist}"/>); false when none has room (then <see cref="Reconnect"/>
    /// links it in). Runs beside other writers and searches.
    /// </summary>
    public bool LinkIn(long key)
    {
        _writeGate.EnterReadLock();
        try
        {
            HnswGraph graph = _graph;
            return Options.Metric == HnswMetric.L2 ? graph.LinkInFromNearestWithRoom<L2Distance>(key) : graph.LinkInFromNearestWithRoom<DotDistance>(key);
        }
        finally
        {
            _writeGate.ExitReadLock();
        }
    }

    /// <summary>
    /// Starts collecting the nodes that inserts prune from a neighbour's layer-0 list (see
    /// <see cref="HnswGraph.TrackDroppedLinks"/>), until <see cref="LinkInDropped"/>.
    /// </summary>
    public void TrackDroppedLinks() => Graph.TrackDroppedLinks();

    /// <summary>
    /// Links in the nodes collected since <see cref="TrackDroppedLinks"/> that none of their neighbours links back to
    /// any more (see <see cref="HnswGraph.LinkInDropped{TDist}"/>); runs beside other writers and searches.
    /// </summary>
    /// <returns>How many no nearby node had room for (then <see cref="Reconnect"/> links them in).</returns>
    public int LinkInDropped()
    {
        _writeGate.EnterReadLock();
        try
        {
            HnswGraph graph = _graph;
            return Options.Metric == HnswMetric.L2 ? graph.LinkInDropped<L2Distance>() : graph.LinkInDropped<DotDistance>();
        }
        finally
        {
            _writeGate.ExitReadLock();
        }
    }

    /// <summary>
    /// Counts the nodes (tombstones included) that no layer-0 walk from the entry point reaches, and those that no
    /// node links to. Writers wait meanwhile.
    /// </summary>
    public (int Unreachable, int WithoutInLinks) Connectivity()
    {
        _writeGate.EnterWriteLock();
        try
        {
            var graph = _graph;
            var reached = graph.ReachableAtLevel0();
            int unreachable = 0;
            for (int node = 0; node < reached.Length; node++)
            {
                if (!reached[node])
                {
                    unreachable++;
                }
            }

            return (unreachable, graph.CountWithoutInLinksAtLevel0());
        }
        finally
        {
            _writeGate.ExitWriteLock();
        }
    }
}
