using Chroma.Server.Indexing.Hnsw.Internal;

namespace Chroma.Server.Indexing.Hnsw;

/// <summary>Reclaiming tombstones.</summary>
internal sealed partial class HnswIndex
{
    /// <summary>
    /// Rebuilds the graph from the live vectors, dropping tombstones and their memory. Writers wait meanwhile;
    /// searches keep running on the old graph and switch to the new one when it is complete.
    /// </summary>
    /// <param name="maxDegreeOfParallelism">Threads used for the rebuild; the default value is 1 (reproducible).</param>
    public void Compact(int maxDegreeOfParallelism = 1)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxDegreeOfParallelism, 1);
        _writeGate.EnterWriteLock();
        try
        {
            HnswGraph old = _graph;
            var rebuilt = new HnswGraph(old.Options);
            int count = old.NodeCount;
            var live = new List<int>(old.LiveCount);
            for (int node = 0; node < count; node++)
            {
                if (old.Nodes.Deleted(node) == 0)
                {
                    live.Add(node);
                }
            }

            bool l2 = old.Options.Metric == HnswMetric.L2;
            void Move(int i)
            {
                int from = live[i];
                int to = rebuilt.Reserve(old.Nodes.Key(from), old.Nodes.Tag(from));
                if (l2)
                {
                    rebuilt.Insert<L2Distance>(to, old.Nodes.VectorSpan(from));
                }
                else
                {
                    rebuilt.Insert<DotDistance>(to, old.Nodes.VectorSpan(from));
                }
            }

            if (maxDegreeOfParallelism == 1)
            {
                for (int i = 0; i < live.Count; i++)
                {
                    Move(i);
                }
            }
            else
            {
                Parallel.For(0, live.Count, new ParallelOptions { MaxDegreeOfParallelism = maxDegreeOfParallelism }, Move);

                // Parallel inserts of nearby vectors can leave a node no search reaches (see Reconnect).
                ReconnectGraph(rebuilt);
            }

            Volatile.Write(ref _graph, rebuilt);
            _inOrderNodes = 0; // the rebuilt graph holds its vectors itself
        }
        finally
        {
            _writeGate.ExitWriteLock();
        }
    }
}
