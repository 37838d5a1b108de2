namespace Chroma.Server.Indexing.Hnsw.Internal;

/// <summary>Exact scans for many queries at once.</summary>
internal sealed unsafe partial class HnswGraph
{
    /// <summary>
    /// Bytes of vectors measured against every query of a batch before the scan moves on: small enough to stay in a
    /// core's cache while the queries take turns (256 KiB: 512 vectors of 128 floats, 42 of 1,536).
    /// </summary>
    private const int ExactBatchBlockBytes = 256 * 1024;

    /// <summary>
    /// The exact k nearest live nodes of each of <paramref name="queryCount"/> queries (stored one after another at
    /// <paramref name="queries"/>, <see cref="Dim"/> floats each), the same answers as one <see cref="SearchExactly{TDist}"/>
    /// each (ties at the k-th distance settled by key), in one pass over the vectors: each block of vectors is read from
    /// memory once and measured against every query while it is in cache. A scan per query reads every vector once per
    /// query; at 1,444,000 128-d vectors that is 740 MB a query, and the recall estimate's 200 queries took tens of
    /// seconds of the index threads, bound by memory (outside-in probe K's data, December 6).
    /// </summary>
    public HnswSearchResult[][] SearchExactlyMany<TDist>(float* queries, int queryCount, int k)
        where TDist : struct, IDistance
    {
        var heaps = new MaxHeap[queryCount];
        var leftOut = new float[queryCount];
        for (int q = 0; q < queryCount; q++)
        {
            heaps[q] = new MaxHeap();
            leftOut[q] = float.PositiveInfinity;
        }

        int count = NodeCount;
        int block = Math.Max(16, ExactBatchBlockBytes / (Dim * sizeof(float)));
        var accepted = new int[block];
        for (int start = 0; start < count; start += block)
        {
            int end = Math.Min(count, start + block);
            int n = 0;
            for (int node = start; node < end; node++)
            {
                if (Volatile.Read(ref _nodes.Ready(node)) != 0 && _nodes.Deleted(node) == 0)
                {
                    accepted[n++] = node;
                }
            }

            for (int q = 0; q < queryCount; q++)
            {
                leftOut[q] = Keep<TDist>(queries + ((nint)q * Dim), k, heaps[q], accepted.AsSpan(0, n), leftOut[q]);
            }
        }

        var results = new HnswSearchResult[queryCount][];
        for (int q = 0; q < queryCount; q++)
        {
            MaxHeap heap = heaps[q];
            if (heap.Count == k && leftOut[q] == heap.TopPriority)
            {
                KeepLowestKeysAtTheKthDistance<TDist, AcceptLive>(queries + ((nint)q * Dim), k, count, heap, default);
            }

            var found = new HnswSearchResult[heap.Count];
            DrainInOrder(heap, found);
            results[q] = found;
        }

        return results;
    }

    // ScanExactly's step over one block of accepted nodes: returns the smallest distance left out so far.
    private float Keep<TDist>(float* query, int k, MaxHeap heap, ReadOnlySpan<int> nodes, float leftOut)
        where TDist : struct, IDistance
    {
        foreach (int node in nodes)
        {
            KeepNearest(heap, k, TDist.Between(query, _nodes.Vector(node), Dim), node, ref leftOut);
        }

        return leftOut;
    }
}
