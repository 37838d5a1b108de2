using System.Collections.Concurrent;

namespace Chroma.Server.Indexing.Hnsw.Internal;

/// <summary>
/// The nodes that lost a layer-0 in-link while it was attached to a graph (<see cref="HnswGraph.TrackDroppedLinks"/>):
/// inserts running in parallel add to it, the check after them reads each node once.
/// </summary>
internal sealed class DroppedLinks
{
    private readonly ConcurrentQueue<int> _nodes = new();

    /// <summary>Records that <paramref name="node"/> was dropped from a neighbour's list.</summary>
    public void Add(int node) => _nodes.Enqueue(node);

    /// <summary>The nodes recorded, each once, in the order first recorded.</summary>
    public IEnumerable<int> Distinct() => _nodes.Distinct();
}
