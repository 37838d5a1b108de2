using Chroma.Server.Indexing.Hnsw.Internal;

namespace Chroma.Server.Indexing.Hnsw;

/// <summary>Building from the exact index's snapshot without copying the vectors it holds in slabs.</summary>
internal sealed partial class HnswIndex
{
    // Nodes 0.._inOrderNodes - 1 are rows 0.._inOrderNodes - 1 of the adopted snapshot, reserved in that order.
    private int _inOrderNodes;

    /// <summary>
    /// Lets an empty index use the snapshot's pinned slabs as the vectors of its first chunks (4,096 nodes each):
    /// <paramref name="slabOf"/> gives, for chunk c, the array holding rows <c>c * 4,096</c> to <c>+4,095</c> of
    /// <paramref name="rows"/>, or null where it has none (that chunk allocates its own and copies them). The slabs
    /// must be on the pinned heap, never be written again (the exact index copies a chunk before it changes a row a
    /// snapshot holds), already normalised under cosine and valid as <see cref="Add"/> requires.
    /// </summary>
    /// <returns>
    /// The rows that go in first, in row order, with <see cref="ReserveAdopted"/> and <see cref="LinkAdopted"/> (through
    /// the last chunk with a slab; 0 when none has one, or the index is not empty), and how many of them are read in
    /// place. The rest go in with <see cref="Add"/> after them.
    /// </returns>
    public (int InOrder, int Adopted) AdoptVectors(int rows, Func<int, float[]?> slabOf)
    {
        ArgumentNullException.ThrowIfNull(slabOf);
        _writeGate.EnterWriteLock();
        try
        {
            HnswGraph graph = _graph;
            if (graph.NodeCount != 0 || _inOrderNodes != 0)
            {
                return (0, 0);
            }

            var slabs = new float[]?[rows / NodeStore.ChunkSize];
            int chunks = 0, adopted = 0;
            for (int c = 0; c < slabs.Length; c++)
            {
                if ((slabs[c] = slabOf(c)) is not null)
                {
                    chunks = c + 1;
                    adopted += NodeStore.ChunkSize;
                }
            }

            if (chunks == 0)
            {
                return (0, 0);
            }

            graph.Nodes.AdoptVectors(chunks, c => slabs[c]);
            _inOrderNodes = chunks * NodeStore.ChunkSize;
            return (_inOrderNodes, adopted);
        }
        finally
        {
            _writeGate.ExitWriteLock();
        }
    }

    /// <summary>
    /// Lets an index of exactly <paramref name="firstNode"/> nodes (a multiple of 4,096, every chunk allocated full, none
    /// beyond) use <paramref name="slabs"/> as the vectors of its next chunks, 4,096 nodes each, under the same terms as
    /// <see cref="AdoptVectors"/>: rows <paramref name="firstNode"/> on go in next, in row order, with
    /// <see cref="ReserveAdopted"/> and <see cref="LinkAdopted"/>. Rows that reach an index after its build started (in
    /// the exact index's slabs, in store order) are read in place this way rather than copied.
    /// </summary>
    /// <returns>Whether the slabs were adopted: false when the index holds another count of nodes or more chunks.</returns>
    public bool AdoptMoreVectors(int firstNode, IReadOnlyList<float[]> slabs)
    {
        ArgumentNullException.ThrowIfNull(slabs);
        _writeGate.EnterWriteLock();
        try
        {
            HnswGraph graph = _graph;
            if (slabs.Count == 0 || firstNode % NodeStore.ChunkSize != 0 || graph.NodeCount != firstNode
                || graph.Nodes.ChunkCount != firstNode / NodeStore.ChunkSize || _inOrderNodes > firstNode)
            {
                return false;
            }

            graph.Nodes.AdoptVectorsFrom(firstNode / NodeStore.ChunkSize, slabs);
            _inOrderNodes = firstNode + (slabs.Count * NodeStore.ChunkSize);
            return true;
        }
        finally
        {
            _writeGate.ExitWriteLock();
        }
    }

    /// <summary>
    /// Reserves the node of row <paramref name="row"/> for <paramref name="key"/> (not yet searchable: see
    /// <see cref="LinkAdopted"/>). Rows are reserved one at a time in order, before any <see cref="Add"/>.
    /// </summary>
    /// <exception cref="InvalidOperationException">The row is not among the in-order rows or not the next node.</exception>
    public int ReserveAdopted(long key, int row, int tag)
    {
        ValidateTag(tag, nameof(tag));
        _writeGate.EnterReadLock();
        try
        {
            HnswGraph graph = _graph;
            if (row >= _inOrderNodes || graph.NodeCount != row)
            {
                throw new InvalidOperationException(
                    $"Row {row} cannot be reserved in order: {_inOrderNodes} rows go in in order and the next node is {graph.NodeCount}.");
            }

            return graph.Reserve(key, tag);
        }
        finally
        {
            _writeGate.ExitReadLock();
        }
    }

    /// <summary>
    /// Links in a node <see cref="ReserveAdopted"/> gave (any order; concurrently with other links and adds), first
    /// copying <paramref name="stored"/> (the row as the snapshot holds it) where its chunk has no slab.
    /// </summary>
    public void LinkAdopted(int node, ReadOnlySpan<float> stored)
    {
        _writeGate.EnterReadLock();
        try
        {
            HnswGraph graph = _graph;
            if (node >= _inOrderNodes || node >= graph.NodeCount)
            {
                throw new InvalidOperationException($"Node {node} is not a reserved in-order node ({_inOrderNodes} rows go in in order).");
            }

            if (!graph.Nodes.IsAdopted(node))
            {
                ValidateVector(stored, nameof(stored));
                stored.CopyTo(graph.Nodes.VectorSpan(node));
            }

            if (Options.Metric == HnswMetric.L2)
            {
                graph.InsertStored<L2Distance>(node);
            }
            else
            {
                graph.InsertStored<DotDistance>(node);
            }
        }
        finally
        {
            _writeGate.ExitReadLock();
        }
    }
}
