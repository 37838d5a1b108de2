using System.Collections.Concurrent;
using Chroma.Server.Indexing.Hnsw.Internal;

namespace Chroma.Server.Indexing.Hnsw;

/// <summary>
/// A rebuild of an <see cref="HnswIndex"/>'s graph without its tombstones (<see cref="HnswIndex.BeginRebuild"/>), done in
/// steps while the index goes on serving: searches, adds and removals use the current graph, and the rebuilt one takes
/// over in <see cref="Complete"/>. Removals made meanwhile are applied to the rebuilt graph when it takes over, and
/// nodes added meanwhile are copied into it then (under the index's writer gate, so a caller that keeps adding should
/// pause its adds while a rebuild runs). <see cref="Copy"/> may run on many threads at once.
/// </summary>
internal sealed class HnswRebuild
{
    private readonly HnswIndex _owner;
    private readonly HnswGraph _old;
    private readonly int[] _live;
    private readonly ConcurrentQueue<long> _removed = new();
    private int _state; // 0 running, 1 completed, 2 abandoned

    internal HnswRebuild(HnswIndex owner, HnswGraph old, int[] live)
    {
        _owner = owner;
        _old = old;
        _live = live;
        NodesAtStart = old.NodeCount;
        Rebuilt = new HnswGraph(old.Options);
    }

    /// <summary>Gets the live vectors the rebuild copies (<see cref="Copy"/> takes 0 to this, exclusive).</summary>
    public int Count => _live.Length;

    /// <summary>Gets the graph's nodes when the rebuild began, tombstones included.</summary>
    public int NodesAtStart { get; }

    /// <summary>Gets whether the rebuild is still to complete or be abandoned.</summary>
    public bool Running => Volatile.Read(ref _state) == 0;

    /// <summary>Gets the graph being built.</summary>
    internal HnswGraph Rebuilt { get; }

    /// <summary>Gets the graph the rebuild copies from.</summary>
    internal HnswGraph Old => _old;

    /// <summary>Copies the <paramref name="i"/>-th live vector of the start into the rebuilt graph, unless it was removed since.</summary>
    public void Copy(int i)
    {
        if (!Running)
        {
            throw new InvalidOperationException("The rebuild has completed or was abandoned.");
        }

        int node = _live[i];
        if (Volatile.Read(ref _old.Nodes.Deleted(node)) == 0)
        {
            CopyNode(node);
        }
    }

    /// <summary>
    /// Links in the rebuilt graph's nodes that parallel copies left unreachable, then hands it to the index: the nodes
    /// added since the start are copied and the removals made since are applied, under the index's writer gate, and
    /// searches switch to it.
    /// </summary>
    /// <returns>What the rebuild did.</returns>
    public HnswRebuildResult Complete()
    {
        if (!Running)
        {
            throw new InvalidOperationException("The rebuild has completed or was abandoned.");
        }

        _ = Rebuilt.Options.Metric == HnswMetric.L2 ? Rebuilt.Reconnect<L2Distance>() : Rebuilt.Reconnect<DotDistance>();
        var (added, removed) = _owner.FinishRebuild(this);
        return new HnswRebuildResult(Rebuilt.LiveCount, NodesAtStart - Count, added, removed);
    }

    /// <summary>Drops the rebuilt graph; the index keeps its own (with its tombstones). Idempotent.</summary>
    public void Abandon() => _owner.AbandonRebuild(this);

    /// <summary>A removal from the index while the rebuild runs (under the index's gate, so before any hand-over).</summary>
    internal void Removed(long key) => _removed.Enqueue(key);

    /// <summary>
    /// Under the index's writer gate: applies the removals logged, then copies the live nodes added since the start (in
    /// that order, so a key removed and added again meanwhile ends with its new vector); returns how many of each.
    /// </summary>
    internal (int Added, int Removed) CatchUp()
    {
        var removed = 0;
        while (_removed.TryDequeue(out long key))
        {
            if (Rebuilt.Remove(key))
            {
                removed++;
            }
        }

        var added = 0;
        for (int node = NodesAtStart; node < _old.NodeCount; node++)
        {
            if (Volatile.Read(ref _old.Nodes.Ready(node)) != 0 && _old.Nodes.Deleted(node) == 0)
            {
                CopyNode(node);
                added++;
            }
        }

        return (added, removed);
    }

    /// <summary>Marks the rebuild ended (1 completed, 2 abandoned); false when it had ended already.</summary>
    internal bool End(int state) => Interlocked.CompareExchange(ref _state, state, 0) == 0;

    private void CopyNode(int from)
    {
        int to = Rebuilt.Reserve(_old.Nodes.Key(from), _old.Nodes.Tag(from));
        if (Rebuilt.Options.Metric == HnswMetric.L2)
        {
            Rebuilt.Insert<L2Distance>(to, _old.Nodes.VectorSpan(from));
        }
        else
        {
            // Stored normalised already under cosine.
            Rebuilt.Insert<DotDistance>(to, _old.Nodes.VectorSpan(from));
        }
    }
}

/// <summary>What a completed <see cref="HnswRebuild"/> did.</summary>
/// <param name="Live">Vectors the rebuilt graph holds.</param>
/// <param name="TombstonesDropped">Removed vectors the old graph held at the start and the new one does not.</param>
/// <param name="AddedDuringRebuild">Vectors added during the rebuild, copied in at the hand-over.</param>
/// <param name="RemovedDuringRebuild">Vectors removed during the rebuild after they were copied, removed at the hand-over.</param>
internal sealed record HnswRebuildResult(int Live, int TombstonesDropped, int AddedDuringRebuild, int RemovedDuringRebuild);
