using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Chroma.Server.Indexing.Hnsw.Internal;

/// <summary>Insertion: greedy descent, ef_construction search per layer, heuristic neighbour selection.</summary>
internal sealed unsafe partial class HnswGraph
{
    /// <summary>Stores the vector of a reserved node (already normalised for cosine) and links it in.</summary>
    public void Insert<TDist>(int node, ReadOnlySpan<float> vector)
        where TDist : struct, IDistance
    {
        vector.CopyTo(_nodes.VectorSpan(node));
        InsertStored<TDist>(node);
    }

    /// <summary>Links in a reserved node whose vector is in place already (an adopted block: <see cref="NodeStore.AdoptVectors"/>).</summary>
    public void InsertStored<TDist>(int node)
        where TDist : struct, IDistance
    {
        int level = DrawLevel(node);
        _nodes.Level(node) = (byte)level;
        if (level > 0)
        {
            _nodes.SetUpperLinks(node, new int[level * _nodes.UpperStride]);
        }

        Volatile.Write(ref _nodes.Ready(node), 1);
        Link<TDist>(node, level);
    }

    private void Link<TDist>(int node, int level)
        where TDist : struct, IDistance
    {
        long entry = Volatile.Read(ref _entry);
        bool holdsEntryLock = false;
        if (entry == EmptyEntry || level > EntryLevel(entry))
        {
            // Raising the top level (or placing the first node) must not race another insert doing the same.
            _entryLock.Enter();
            holdsEntryLock = true;
            entry = _entry;
            if (entry == EmptyEntry)
            {
                Volatile.Write(ref _entry, PackEntry(node, level));
                _entryLock.Exit();
                return;
            }

            if (level <= EntryLevel(entry))
            {
                _entryLock.Exit();
                holdsEntryLock = false;
            }
        }

        try
        {
            float* q = _nodes.Vector(node);
            SearchScratch scratch = SearchScratch.ForCurrentThread();
            int topLevel = EntryLevel(entry);
            // The walk above the node's level leaves its seeds; each level it is linked on then seeds the next with the
            // closest node found there.
            Descend<TDist>(q, entry, Math.Min(level, topLevel), scratch);
            List<int> seeds = scratch.Seeds;
            for (int lc = Math.Min(level, topLevel); lc >= 0; lc--)
            {
                SearchLayer<TDist, AcceptAll>(q, CollectionsMarshal.AsSpan(seeds), Options.EfConstruction, lc, scratch, default);
                int closest = Connect<TDist>(node, lc, scratch);
                seeds.Clear();
                seeds.Add(closest);
            }

            if (holdsEntryLock)
            {
                Volatile.Write(ref _entry, PackEntry(node, level));
            }
        }
        finally
        {
            if (holdsEntryLock)
            {
                _entryLock.Exit();
            }
        }
    }

    /// <summary>Links <paramref name="node"/> to the best of the search results and back; returns the closest.</summary>
    private int Connect<TDist>(int node, int level, SearchScratch scratch)
        where TDist : struct, IDistance
    {
        List<(float Distance, int Node)> chosen = scratch.Selection;
        chosen.Clear();
        MaxHeap results = scratch.Results;
        while (results.Count > 0)
        {
            chosen.Add((results.TopPriority, results.TopNode));
            results.Pop();
        }

        chosen.Reverse();
        SelectByHeuristic<TDist>(chosen, M, scratch.Kept);
        int closest = chosen[0].Node;

        lock (LinkLock(node))
        {
            ref int own = ref _nodes.LinksRef(node, level);
            for (int i = 0; i < chosen.Count; i++)
            {
                Unsafe.Add(ref own, i + 1) = chosen[i].Node;
            }

            Volatile.Write(ref own, chosen.Count);
        }

        int capacity = level == 0 ? M0 : M;
        List<(float Distance, int Node)> pruned = scratch.Pruned;
        for (int i = 0; i < chosen.Count; i++)
        {
            int neighbour = chosen[i].Node;
            lock (LinkLock(neighbour))
            {
                ref int list = ref _nodes.LinksRef(neighbour, level);
                int count = list;
                if (count < capacity)
                {
                    Unsafe.Add(ref list, count + 1) = node;
                    Volatile.Write(ref list, count + 1);
                    continue;
                }

                // Full: keep the most diverse `capacity` of the old neighbours plus the new node.
                float* nv = _nodes.Vector(neighbour);
                pruned.Clear();
                pruned.Add((chosen[i].Distance, node));
                for (int j = 1; j <= count; j++)
                {
                    int other = Unsafe.Add(ref list, j);
                    pruned.Add((TDist.Between(nv, _nodes.Vector(other), Dim), other));
                }

                pruned.Sort(static (a, b) => a.Distance.CompareTo(b.Distance));
                SelectByHeuristic<TDist>(pruned, capacity, scratch.Kept, level == 0 ? Volatile.Read(ref _droppedAtLevel0) : null);
                for (int j = 0; j < pruned.Count; j++)
                {
                    Unsafe.Add(ref list, j + 1) = pruned[j].Node;
                }

                Volatile.Write(ref list, pruned.Count);
            }
        }

        return closest;
    }

    /// <summary>
    /// The paper's heuristic (hnswlib getNeighborsByHeuristic2): walk candidates nearest first and keep one only
    /// when it is closer to the base than to every neighbour kept so far, so links spread in all directions.
    /// <paramref name="sorted"/> is ascending by distance and is trimmed in place; the candidates left out go to
    /// <paramref name="dropped"/> when given.
    /// </summary>
    /// <remarks>
    /// One change: at most half the list may be copies of the base (candidates at distance 0 from it; within
    /// <see cref="IdenticalWithin"/> under cosine). Copies tie with one another, so the paper's rule keeps every one
    /// of them, and a vector logged many times (an empty or default input) ends up linking only to its own copies:
    /// no walk leaves the copies, and a search that enters them (or starts in them: the entry point may be one)
    /// reaches nothing else. With no copies among the candidates the selection is the paper's.
    /// </remarks>
    private void SelectByHeuristic<TDist>(List<(float Distance, int Node)> sorted, int m, List<(float Distance, int Node)> kept, DroppedLinks? dropped = null)
        where TDist : struct, IDistance
    {
        if (sorted.Count <= m)
        {
            return;
        }

        kept.Clear();
        int copiesAllowed = Math.Max(1, m / 2);
        foreach ((float distance, int candidate) in sorted)
        {
            if (kept.Count >= m)
            {
                if (dropped is null)
                {
                    break;
                }

                dropped.Add(candidate);
                continue;
            }

            if (distance <= IdenticalWithin)
            {
                if (copiesAllowed == 0)
                {
                    dropped?.Add(candidate);
                    continue;
                }

                copiesAllowed--;
                kept.Add((distance, candidate));
                continue;
            }

            float* cv = _nodes.Vector(candidate);
            bool diverse = true;
            foreach ((_, int keptNode) in kept)
            {
                if (TDist.Between(cv, _nodes.Vector(keptNode), Dim) < distance)
                {
                    diverse = false;
                    break;
                }
            }

            if (diverse)
            {
                kept.Add((distance, candidate));
            }
            else
            {
                dropped?.Add(candidate);
            }
        }

        sorted.Clear();
        sorted.AddRange(kept);
    }
}
