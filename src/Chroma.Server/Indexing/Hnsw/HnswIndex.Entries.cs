namespace Chroma.Server.Indexing.Hnsw;

/// <summary>Reading back what the index holds (resuming a build, sampling for a recall estimate).</summary>
internal sealed partial class HnswIndex
{
    /// <summary>The keys of every live vector, in insertion order.</summary>
    /// <remarks>Vectors added while this runs may or may not be listed.</remarks>
    public long[] LiveKeys()
    {
        var graph = Graph;
        int count = graph.NodeCount;
        var keys = new List<long>(graph.LiveCount);
        for (int node = 0; node < count; node++)
        {
            if (Volatile.Read(ref graph.Nodes.Ready(node)) != 0 && Volatile.Read(ref graph.Nodes.Deleted(node)) == 0)
            {
                keys.Add(graph.Nodes.Key(node));
            }
        }

        return [.. keys];
    }

    /// <summary>
    /// Copies up to <paramref name="count"/> live vectors picked at random by <paramref name="random"/>
    /// (distinct nodes), with their keys. Fewer come back when the index holds fewer.
    /// </summary>
    /// <remarks>The vectors are as stored: unit length under the cosine metric.</remarks>
    public IReadOnlyList<(long Key, float[] Vector)> SampleLive(int count, Random random)
    {
        ArgumentNullException.ThrowIfNull(random);
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        var graph = Graph;
        int nodes = graph.NodeCount;
        var picked = new HashSet<int>();
        var sample = new List<(long, float[])>(Math.Min(count, graph.LiveCount));

        // Rejection sampling over node ids: tombstones are skipped; bounded tries keep a mostly-deleted graph cheap.
        for (int tries = 0; sample.Count < Math.Min(count, graph.LiveCount) && tries < count * 20; tries++)
        {
            int node = random.Next(nodes);
            if (!picked.Add(node) || Volatile.Read(ref graph.Nodes.Ready(node)) == 0 || Volatile.Read(ref graph.Nodes.Deleted(node)) != 0)
            {
                continue;
            }

            sample.Add((graph.Nodes.Key(node), graph.Nodes.VectorSpan(node).ToArray()));
        }

        GC.KeepAlive(graph);
        return sample;
    }
}
