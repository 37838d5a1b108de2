using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics.X86;

namespace Chroma.Server.Indexing.Hnsw.Internal;

/// <summary>Searching: greedy descent through the upper layers, best-first search on one layer, exact scans.</summary>
internal sealed unsafe partial class HnswGraph
{
    /// <summary>
    /// A filtered search scans its subset exactly when the subset's vectors hold at most this many floats (4 Mi: 32,768
    /// vectors of 128, 10,922 of 384, 2,730 of 1,536), whatever share of the graph it is.
    /// </summary>
    internal const long ExactScanMaxFloats = 4L * 1024 * 1024;

    /// <summary>
    /// Whether a search restricted to a tag of <paramref name="subset"/> live vectors (of <paramref name="live"/>) scans
    /// them instead of walking the graph: a small share is poorly connected in the graph
    /// (<see cref="HnswOptions.ExactSearchFraction"/>, <see cref="HnswOptions.ExactSearchMaxCount"/>), and a subset a scan
    /// of <see cref="ExactScanMaxFloats"/> covers costs a few milliseconds, where the filtered walk to a subset that lies
    /// in one corner of the data crosses the graph (8% of 100,000 384-d records: 62 ms walked, 3.9 ms scanned; outside-in
    /// probe J).
    /// </summary>
    internal static bool ScansSubset(int subset, int live, int dimension, HnswOptions options) =>
        subset <= options.ExactSearchMaxCount || subset <= live * options.ExactSearchFraction || (long)subset * dimension <= ExactScanMaxFloats;

    /// <summary>
    /// Writes up to <c>results.Length</c> nearest accepted nodes, ascending, and returns how many.
    /// <paramref name="tag"/> below zero means no tag restriction. With a <paramref name="sampleSize"/>, layer 0's walk
    /// also starts from the <paramref name="sampleSeeds"/> nodes nearest the query among an even sample of about that many
    /// nodes (<see cref="SeedFromSample{TDist}"/>).
    /// </summary>
    public int Search<TDist>(float* query, int ef, int tag, Span<HnswSearchResult> results, int sampleSize = 0, int sampleSeeds = 0)
        where TDist : struct, IDistance
    {
        int k = results.Length;
        long entry = Volatile.Read(ref _entry);
        if (entry == EmptyEntry || k == 0)
        {
            return 0;
        }

        SearchScratch scratch = SearchScratch.ForCurrentThread();
        ef = Math.Max(ef, k);
        int live = LiveCount;
        if (tag >= 0)
        {
            int subset = LiveCountForTag(tag);
            if (subset == 0)
            {
                return 0;
            }

            if (ScansSubset(subset, live, Dim, Options))
            {
                ScanExactly<TDist, AcceptTag>(query, k, scratch, new AcceptTag(tag));
                return DrainInOrder(scratch.Results, results);
            }

            // The subset is a fraction of the graph, so widen the beam in proportion (capped) to keep its recall.
            double share = (double)subset / Math.Max(live, 1);
            ef = (int)Math.Min(ef * Math.Min(1 / share, 4.0), int.MaxValue / 2);
        }

        Descend<TDist>(query, entry, 0, scratch);
        if (sampleSize > 0 && sampleSeeds > 0)
        {
            SeedFromSample<TDist>(query, sampleSize, sampleSeeds, scratch);
        }

        ReadOnlySpan<int> seeds = CollectionsMarshal.AsSpan(scratch.Seeds);
        if (tag >= 0)
        {
            SearchLayer<TDist, AcceptTag>(query, seeds, ef, 0, scratch, new AcceptTag(tag));
        }
        else if (live < NodeCount)
        {
            SearchLayer<TDist, AcceptLive>(query, seeds, ef, 0, scratch, default);
        }
        else
        {
            SearchLayer<TDist, AcceptAll>(query, seeds, ef, 0, scratch, default);
        }

        return Drain(scratch.Results, results);
    }

    /// <summary>
    /// Adds to <c>scratch.Seeds</c> the <paramref name="seedCount"/> nodes nearest the query among an even sample of about
    /// <paramref name="sampleSize"/> nodes (by id, so spread over the insertion order). For a query far from the data the
    /// descent's greedy walk stops at a node that is near only in the graph's upper layers, and a beam from there reaches
    /// few true neighbours (recall@10 0.80 at 150,000 clustered records and 0.49-0.53 at a million, beam 1,024,
    /// `recall-estimate`); the nearest sampled nodes lie among them.
    /// </summary>
    private void SeedFromSample<TDist>(float* query, int sampleSize, int seedCount, SearchScratch scratch)
        where TDist : struct, IDistance
    {
        // The sample's nearest, kept in the results heap (the layer's search clears it).
        MaxHeap nearest = scratch.Results;
        nearest.Clear();
        int count = NodeCount;
        int stride = Math.Max(1, count / sampleSize);
        for (int node = stride / 2; node < count; node += stride)
        {
            if (Volatile.Read(ref _nodes.Ready(node)) == 0)
            {
                continue;
            }

            float d = TDist.Between(query, _nodes.Vector(node), Dim);
            if (nearest.Count < seedCount)
            {
                nearest.Push(d, node);
            }
            else if (d < nearest.TopPriority)
            {
                nearest.Pop();
                nearest.Push(d, node);
            }
        }

        while (nearest.Count > 0)
        {
            scratch.Seeds.Add(nearest.TopNode);
            nearest.Pop();
        }
    }

    /// <summary>Exact k nearest among accepted nodes (the filtered fallback, and the tests' reference).</summary>
    public int SearchExactly<TDist>(float* query, int tag, Span<HnswSearchResult> results)
        where TDist : struct, IDistance
    {
        SearchScratch scratch = SearchScratch.ForCurrentThread();
        if (tag >= 0)
        {
            ScanExactly<TDist, AcceptTag>(query, results.Length, scratch, new AcceptTag(tag));
        }
        else
        {
            ScanExactly<TDist, AcceptLive>(query, results.Length, scratch, default);
        }

        return DrainInOrder(scratch.Results, results);
    }

    private void ScanExactly<TDist, TFilter>(float* query, int k, SearchScratch scratch, TFilter filter)
        where TDist : struct, IDistance
        where TFilter : struct, INodeFilter
    {
        MaxHeap heap = scratch.Results;
        heap.Clear();
        int count = NodeCount;

        // The smallest distance of a node left out (rejected, or pushed out of the k kept): equal to the k-th kept
        // distance only when nodes tie there, and then which of them are kept is settled by key below.
        float leftOut = float.PositiveInfinity;
        for (int node = 0; node < count; node++)
        {
            if (Volatile.Read(ref _nodes.Ready(node)) == 0 || !filter.Accepts(_nodes, node))
            {
                continue;
            }

            KeepNearest(heap, k, TDist.Between(query, _nodes.Vector(node), Dim), node, ref leftOut);
        }

        if (heap.Count == k && leftOut == heap.TopPriority)
        {
            KeepLowestKeysAtTheKthDistance<TDist, TFilter>(query, k, count, heap, filter);
        }
    }

    // One step of an exact scan: keeps the node among the k nearest so far, and the smallest distance left out (rejected,
    // or pushed out of the k kept) in leftOut.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void KeepNearest(MaxHeap heap, int k, float distance, int node, ref float leftOut)
    {
        if (heap.Count < k)
        {
            heap.Push(distance, node);
        }
        else if (distance < heap.TopPriority)
        {
            leftOut = Math.Min(leftOut, heap.TopPriority);
            heap.Pop();
            heap.Push(distance, node);
        }
        else
        {
            leftOut = Math.Min(leftOut, distance);
        }
    }

    // Nodes tie at the k-th distance and not all of them fit: keep those with the lowest keys (sequences, i.e. store
    // order), so an exact answer does not depend on where the graph placed each node. Rare (equal distances), so a
    // second scan.
    private void KeepLowestKeysAtTheKthDistance<TDist, TFilter>(float* query, int k, int count, MaxHeap heap, TFilter filter)
        where TDist : struct, IDistance
        where TFilter : struct, INodeFilter
    {
        float kth = heap.TopPriority;
        var within = new List<(float Distance, long Key, int Node)>(k + 8);
        for (int node = 0; node < count; node++)
        {
            if (Volatile.Read(ref _nodes.Ready(node)) == 0 || !filter.Accepts(_nodes, node))
            {
                continue;
            }

            float d = TDist.Between(query, _nodes.Vector(node), Dim);
            if (d <= kth)
            {
                within.Add((d, _nodes.Key(node), node));
            }
        }

        within.Sort(static (a, b) => a.Distance != b.Distance ? a.Distance.CompareTo(b.Distance) : a.Key.CompareTo(b.Key));
        heap.Clear();
        for (int i = 0; i < Math.Min(k, within.Count); i++)
        {
            heap.Push(within[i].Distance, within[i].Node);
        }
    }

    // An exact scan's results, ascending by distance and, at equal distances, by key.
    private int DrainInOrder(MaxHeap heap, Span<HnswSearchResult> results)
    {
        int found = Drain(heap, results);
        results[..found].Sort(static (a, b) => a.Distance != b.Distance ? a.Distance.CompareTo(b.Distance) : a.Key.CompareTo(b.Key));
        return found;
    }

    private int Drain(MaxHeap heap, Span<HnswSearchResult> results)
    {
        while (heap.Count > results.Length)
        {
            heap.Pop();
        }

        int found = heap.Count;
        for (int i = found - 1; i >= 0; i--)
        {
            results[i] = new HnswSearchResult(_nodes.Key(heap.TopNode), heap.TopPriority);
            heap.Pop();
        }

        return found;
    }

    /// <summary>
    /// Walks the layers above <paramref name="stopLevel"/> from the entry point and leaves in <c>scratch.Seeds</c> (nearest
    /// first) where the search of layer <paramref name="stopLevel"/> starts: with <see cref="HnswOptions.UpperBeam"/> 1 the
    /// paper's greedy walk (one node), wider a beam of that many nodes per layer, all of the last one handed down (see
    /// <see cref="HnswOptions.UpperBeam"/>).
    /// </summary>
    private void Descend<TDist>(float* query, long entry, int stopLevel, SearchScratch scratch)
        where TDist : struct, IDistance
    {
        List<int> seeds = scratch.Seeds;
        seeds.Clear();
        int current = EntryNode(entry);
        int width = Options.UpperBeam;
        if (width <= 1)
        {
            float currentDist = TDist.Between(query, _nodes.Vector(current), Dim);
            for (int lc = EntryLevel(entry); lc > stopLevel; lc--)
            {
                current = GreedyClosest<TDist>(query, current, ref currentDist, lc);
            }

            seeds.Add(current);
            return;
        }

        seeds.Add(current);
        for (int lc = EntryLevel(entry); lc > stopLevel; lc--)
        {
            SearchLayer<TDist, AcceptAll>(query, CollectionsMarshal.AsSpan(seeds), width, lc, scratch, default);
            seeds.Clear();
            MaxHeap beam = scratch.Results;
            while (beam.Count > 0)
            {
                seeds.Add(beam.TopNode);
                beam.Pop();
            }

            seeds.Reverse();
        }
    }

    /// <summary>Moves to the closest neighbour on <paramref name="level"/> until none is closer (ef = 1).</summary>
    private int GreedyClosest<TDist>(float* query, int current, ref float currentDist, int level)
        where TDist : struct, IDistance
    {
        bool changed = true;
        while (changed)
        {
            changed = false;
            ref int list = ref _nodes.LinksRef(current, level);
            int count = Volatile.Read(ref list);
            for (int j = 1; j <= count; j++)
            {
                int candidate = Unsafe.Add(ref list, j);
                float d = TDist.Between(query, _nodes.Vector(candidate), Dim);
                if (d < currentDist)
                {
                    currentDist = d;
                    current = candidate;
                    changed = true;
                }
            }
        }

        return current;
    }

    /// <summary>
    /// Best-first search on one layer, leaving up to <paramref name="ef"/> accepted nodes in
    /// <c>scratch.Results</c>. Rejected nodes still route the search (as in hnswlib), so a filter or tombstones
    /// never disconnect the graph; with a restricting filter the search only stops once ef nodes are accepted. Starts
    /// from every node of <paramref name="entries"/> (the seeds <see cref="Descend{TDist}"/> leaves).
    /// </summary>
    private void SearchLayer<TDist, TFilter>(float* query, ReadOnlySpan<int> entries, int ef, int level, SearchScratch scratch, TFilter filter)
        where TDist : struct, IDistance
        where TFilter : struct, INodeFilter
    {
        MaxHeap results = scratch.Results;
        MaxHeap candidates = scratch.Candidates;
        results.Clear();
        candidates.Clear();

        // Nodes inserted after this point may show up in link lists; they are skipped rather than resized for.
        int limit = _nodes.Capacity;
        scratch.ResetVisited(limit);

        float lowerBound = float.MaxValue;
        foreach (int entry in entries)
        {
            if (!scratch.TryVisit(entry))
            {
                continue;
            }

            float d0 = TDist.Between(query, _nodes.Vector(entry), Dim);
            if (filter.Accepts(_nodes, entry))
            {
                results.Push(d0, entry);
                if (results.Count > ef)
                {
                    results.Pop();
                }

                lowerBound = results.TopPriority;
            }

            candidates.Push(-d0, entry);
        }
        while (candidates.Count > 0)
        {
            float candidateDist = -candidates.TopPriority;
            if (candidateDist > lowerBound && (results.Count == ef || !TFilter.Restricts))
            {
                break;
            }

            int current = candidates.TopNode;
            candidates.Pop();

            ref int list = ref _nodes.LinksRef(current, level);
            int count = Volatile.Read(ref list);
            float* next = count > 0 ? _nodes.Vector(Unsafe.Add(ref list, 1)) : null;
            if (Sse.IsSupported && count > 0)
            {
                Sse.Prefetch0(next);
            }

            for (int j = 1; j <= count; j++)
            {
                int neighbour = Unsafe.Add(ref list, j);
                float* vector = next;
                if (j < count)
                {
                    // Fetch the next vector while this one's distance is computed (as hnswlib does).
                    next = _nodes.Vector(Unsafe.Add(ref list, j + 1));
                    if (Sse.IsSupported)
                    {
                        Sse.Prefetch0(next);
                    }
                }

                if ((uint)neighbour >= (uint)limit || !scratch.TryVisit(neighbour))
                {
                    continue;
                }

                float d = TDist.Between(query, vector, Dim);
                if (results.Count < ef || d < lowerBound)
                {
                    candidates.Push(-d, neighbour);
                    if (filter.Accepts(_nodes, neighbour))
                    {
                        results.Push(d, neighbour);
                        if (results.Count > ef)
                        {
                            results.Pop();
                        }

                        lowerBound = results.TopPriority;
                    }
                }
            }
        }
    }
}
