using Chroma.Server.Indexing.Hnsw.Internal;

namespace Chroma.Server.Indexing.Hnsw;

/// <summary>Reclaiming tombstones: a rebuild of the graph from its live vectors.</summary>
internal sealed partial class HnswIndex
{
    private HnswRebuild? _rebuild;

    /// <summary>Gets the rebuild in progress (<see cref="BeginRebuild"/>), or null.</summary>
    public HnswRebuild? Rebuild => Volatile.Read(ref _rebuild);

    /// <summary>
    /// Rebuilds the graph from the live vectors, dropping tombstones and their memory, and returns when the rebuilt graph
    /// has taken over. Searches, adds and removals go on meanwhile against the current graph (see <see cref="HnswRebuild"/>).
    /// </summary>
    /// <param name="maxDegreeOfParallelism">Threads used for the rebuild; the default value is 1 (reproducible).</param>
    public HnswRebuildResult Compact(int maxDegreeOfParallelism = 1)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxDegreeOfParallelism, 1);
        var rebuild = BeginRebuild();
        try
        {
            if (maxDegreeOfParallelism == 1)
            {
                for (int i = 0; i < rebuild.Count; i++)
                {
                    rebuild.Copy(i);
                }
            }
            else
            {
                Parallel.For(0, rebuild.Count, new ParallelOptions { MaxDegreeOfParallelism = maxDegreeOfParallelism }, rebuild.Copy);
            }

            return rebuild.Complete();
        }
        catch
        {
            rebuild.Abandon();
            throw;
        }
    }

    /// <summary>
    /// Starts a rebuild of the graph from its live vectors, copied with <see cref="HnswRebuild.Copy"/> (in steps, on any
    /// threads) and handed over with <see cref="HnswRebuild.Complete"/>; the index serves from its current graph until then.
    /// Waits only for the writers running now.
    /// </summary>
    /// <exception cref="InvalidOperationException">A rebuild is already running.</exception>
    public HnswRebuild BeginRebuild()
    {
        _writeGate.EnterWriteLock();
        try
        {
            if (_rebuild is not null)
            {
                throw new InvalidOperationException("A rebuild of this index is already running; complete or abandon it first.");
            }

            HnswGraph graph = _graph;
            int count = graph.NodeCount;
            var live = new List<int>(graph.LiveCount);
            for (int node = 0; node < count; node++)
            {
                if (graph.Nodes.Deleted(node) == 0 && Volatile.Read(ref graph.Nodes.Ready(node)) != 0)
                {
                    live.Add(node);
                }
            }

            var rebuild = new HnswRebuild(this, graph, [.. live]);
            Volatile.Write(ref _rebuild, rebuild);
            return rebuild;
        }
        finally
        {
            _writeGate.ExitWriteLock();
        }
    }

    /// <summary>The hand-over of <see cref="HnswRebuild.Complete"/>: under the writer gate, catch up and switch graphs.</summary>
    internal (int Added, int Removed) FinishRebuild(HnswRebuild rebuild)
    {
        _writeGate.EnterWriteLock();
        try
        {
            if (!ReferenceEquals(_rebuild, rebuild) || !ReferenceEquals(_graph, rebuild.Old) || !rebuild.End(1))
            {
                throw new InvalidOperationException("The rebuild is not this index's running one.");
            }

            var caughtUp = rebuild.CatchUp();
            Volatile.Write(ref _graph, rebuild.Rebuilt);
            _inOrderNodes = 0; // the rebuilt graph holds its vectors itself
            Volatile.Write(ref _rebuild, null);
            return caughtUp;
        }
        finally
        {
            _writeGate.ExitWriteLock();
        }
    }

    /// <summary>Ends <paramref name="rebuild"/> without a hand-over (the current graph stays); nothing when it ended already.</summary>
    internal void AbandonRebuild(HnswRebuild rebuild)
    {
        _writeGate.EnterWriteLock();
        try
        {
            if (ReferenceEquals(_rebuild, rebuild) && rebuild.End(2))
            {
                Volatile.Write(ref _rebuild, null);
            }
        }
        finally
        {
            _writeGate.ExitWriteLock();
        }
    }
}
