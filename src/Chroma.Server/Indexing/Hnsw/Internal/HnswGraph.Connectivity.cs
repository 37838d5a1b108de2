using System.Collections;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Chroma.Server.Indexing.Hnsw.Internal;

/// <summary>
/// Connectivity of layer 0: which nodes a search can reach from the entry point at all, and linking in those it
/// cannot. A node can end up with no in-links when its neighbours' lists are pruned after it was linked; mostly
/// when nodes close to one another are inserted at the same time (a parallel build): neither sees the other, and
/// each neighbour they share keeps only one of them. Such a node is never returned by a search.
/// </summary>
internal sealed unsafe partial class HnswGraph
{
    private const int MaxReconnectRounds = 3;

    private DroppedLinks? _droppedAtLevel0;

    /// <summary>
    /// Links every live node that no layer-0 walk from the entry point reaches into the reachable graph: the nearest
    /// reachable node found by a search for it (ef = EfConstruction) that has room takes a link to it; when none of
    /// them has room, the nearest gives up the link to a neighbour that other nodes link to as well. Call with
    /// writers held back; searches may run meanwhile (a list is changed under its lock, ids before counts).
    /// </summary>
    /// <returns>How many nodes were linked in, and how many live nodes stay unreachable (no candidate could take them).</returns>
    public (int Linked, int Unreachable) Reconnect<TDist>()
        where TDist : struct, IDistance
    {
        // Each round starts from a fresh walk, so the count returned is what a search faces now (a link given up to
        // make room can, rarely, cut off a node whose other in-links came from unreachable nodes: the next round
        // links it in).
        int linked = 0;
        for (int round = 0; ; round++)
        {
            BitArray reached = ReachableAtLevel0();
            int unreachable = CountUnreachableLive(reached);
            if (unreachable == 0 || round == MaxReconnectRounds)
            {
                return (linked, unreachable);
            }

            int linkedNow = ReconnectRound<TDist>(reached);
            if (linkedNow == 0)
            {
                return (linked, unreachable);
            }

            linked += linkedNow;
        }
    }

    private int ReconnectRound<TDist>(BitArray reached)
        where TDist : struct, IDistance
    {
        int count = NodeCount;
        int[]? inDegree = null;
        int linked = 0;
        for (int node = 0; node < count; node++)
        {
            if (!IsUnreachableLive(node, reached))
            {
                continue;
            }

            inDegree ??= InDegreesAtLevel0();
            if (LinkFromReachable<TDist>(node, reached, inDegree))
            {
                linked++;
                MarkReachableFrom(node, reached);
            }
        }

        return linked;
    }

    /// <summary>
    /// A live node no walk reached. Tombstones are never returned; a node reserved and not linked yet has no vector to
    /// search with (not seen with writers held back, where every reserved node is linked).
    /// </summary>
    private bool IsUnreachableLive(int node, BitArray reached) =>
        !reached[node] && _nodes.Deleted(node) == 0 && Volatile.Read(ref _nodes.Ready(node)) != 0;

    private int CountUnreachableLive(BitArray reached)
    {
        int unreachable = 0;
        for (int node = 0; node < reached.Length; node++)
        {
            unreachable += IsUnreachableLive(node, reached) ? 1 : 0;
        }

        return unreachable;
    }

    private bool LinkFromReachable<TDist>(int node, BitArray reached, int[] inDegree)
        where TDist : struct, IDistance
    {
        List<(float Distance, int Node)> candidates = NearestReachedFrom<TDist>(node, reached);
        foreach ((_, int candidate) in candidates)
        {
            lock (LinkLock(candidate))
            {
                ref int list = ref _nodes.LinksRef(candidate, 0);
                if (list < M0)
                {
                    Unsafe.Add(ref list, list + 1) = node;
                    Volatile.Write(ref list, list + 1);
                    inDegree[node]++;
                    return true;
                }
            }
        }

        // Every candidate is full: the nearest one that links to a node with other in-links gives that link up
        // (the most linked-to such neighbour), so no node loses its last in-link here.
        foreach ((_, int candidate) in candidates)
        {
            lock (LinkLock(candidate))
            {
                ref int list = ref _nodes.LinksRef(candidate, 0);
                int victimSlot = 0;
                for (int j = 1; j <= list; j++)
                {
                    int other = Unsafe.Add(ref list, j);
                    if (inDegree[other] > 1 && (victimSlot == 0 || inDegree[other] > inDegree[Unsafe.Add(ref list, victimSlot)]))
                    {
                        victimSlot = j;
                    }
                }

                if (victimSlot > 0)
                {
                    inDegree[Unsafe.Add(ref list, victimSlot)]--;
                    Volatile.Write(ref Unsafe.Add(ref list, victimSlot), node);
                    inDegree[node]++;
                    return true;
                }
            }
        }

        return false;
    }

    /// <summary>
    /// Starts collecting the nodes that lose a layer-0 in-link to the pruning of a full neighbour list (an insert beside
    /// them), for <see cref="LinkInDropped{TDist}"/>. Such a node, linked and searchable before, can be left with no
    /// in-link and then no search returns it.
    /// </summary>
    public void TrackDroppedLinks() => Volatile.Write(ref _droppedAtLevel0, new DroppedLinks());

    /// <summary>
    /// Stops collecting (<see cref="TrackDroppedLinks"/>) and links in each live node collected that none of its own
    /// neighbours links back to any more, from the nearest reachable node with room (as
    /// <see cref="LinkInFromNearestWithRoom{TDist}"/>). Runs beside searches and other writers.
    /// </summary>
    /// <returns>How many of them no nearby node had room for (the caller then runs <see cref="Reconnect{TDist}"/>).</returns>
    public int LinkInDropped<TDist>()
        where TDist : struct, IDistance
    {
        if (Interlocked.Exchange(ref _droppedAtLevel0, null) is not { } dropped)
        {
            return 0;
        }

        int notLinked = 0;
        foreach (int node in dropped.Distinct())
        {
            if (_nodes.Deleted(node) == 0 && !LinkedBackAt(node) && !LinkInAt<TDist>(node))
            {
                notLinked++;
            }
        }

        return notLinked;
    }

    /// <summary>
    /// Whether <paramref name="key"/>'s node is linked to at layer 0 by one of its own layer-0 neighbours, the usual way a
    /// node inserted into the graph is reached (true for an unknown key and for the entry node). A node none of them
    /// links back to may still be reached through others; one that no node links to is returned by no search.
    /// </summary>
    public bool LinkedBack(long key) => !TryGetNode(key, out int node) || LinkedBackAt(node);

    private bool LinkedBackAt(int node)
    {
        long entry = Volatile.Read(ref _entry);
        if (entry != EmptyEntry && node == EntryNode(entry))
        {
            return true;
        }

        int* links = _nodes.Links0(node);
        int n = links[0];
        for (int i = 1; i <= n; i++)
        {
            int* back = _nodes.Links0(links[i]);
            int m = back[0];
            for (int j = 1; j <= m; j++)
            {
                if (back[j] == node)
                {
                    return true;
                }
            }
        }

        return false;
    }

    /// <summary>
    /// Links <paramref name="key"/>'s node in from the nearest node a search for its vector reaches that has room in its
    /// layer-0 list (no full walk: what a search visits is reachable). False when every such node is full (or the key
    /// is unknown): the caller then runs <see cref="Reconnect{TDist}"/>. Writers that hold the index's shared gate may
    /// run meanwhile (a list changes under its lock).
    /// </summary>
    public bool LinkInFromNearestWithRoom<TDist>(long key)
        where TDist : struct, IDistance
    {
        return TryGetNode(key, out int node) && LinkInAt<TDist>(node);
    }

    private bool LinkInAt<TDist>(int node)
        where TDist : struct, IDistance
    {
        if (Volatile.Read(ref _entry) == EmptyEntry)
        {
            return false;
        }

        foreach ((_, int candidate) in NearestReachedFrom<TDist>(node, reached: null))
        {
            lock (LinkLock(candidate))
            {
                ref int list = ref _nodes.LinksRef(candidate, 0);
                for (int j = 1; j <= list; j++)
                {
                    if (Unsafe.Add(ref list, j) == node)
                    {
                        return true;
                    }
                }

                if (list < M0)
                {
                    Unsafe.Add(ref list, list + 1) = node;
                    Volatile.Write(ref list, list + 1);
                    return true;
                }
            }
        }

        return false;
    }

    // The nodes a search for node's vector (ef_construction) from the entry point finds, nearest first, node itself left
    // out and, with reached, only those marked there; in this thread's scratch list.
    private List<(float Distance, int Node)> NearestReachedFrom<TDist>(int node, BitArray? reached)
        where TDist : struct, IDistance
    {
        float* q = _nodes.Vector(node);
        SearchScratch scratch = SearchScratch.ForCurrentThread();
        long entry = Volatile.Read(ref _entry);
        Descend<TDist>(q, entry, 0, scratch);
        SearchLayer<TDist, AcceptAll>(q, CollectionsMarshal.AsSpan(scratch.Seeds), Options.EfConstruction, 0, scratch, default);
        List<(float Distance, int Node)> candidates = scratch.Selection;
        candidates.Clear();
        MaxHeap results = scratch.Results;
        while (results.Count > 0)
        {
            if (results.TopNode != node && (reached is null || reached[results.TopNode]))
            {
                candidates.Add((results.TopPriority, results.TopNode));
            }

            results.Pop();
        }

        candidates.Reverse();
        return candidates;
    }

    private int[] InDegreesAtLevel0()
    {
        int count = NodeCount;
        var inDegree = new int[count];
        for (int node = 0; node < count; node++)
        {
            int* links = _nodes.Links0(node);
            for (int i = 1; i <= links[0]; i++)
            {
                inDegree[links[i]]++;
            }
        }

        return inDegree;
    }

    private void MarkReachableFrom(int start, BitArray reached)
    {
        var pending = new Stack<int>();
        reached[start] = true;
        pending.Push(start);
        while (pending.Count > 0)
        {
            int* links = _nodes.Links0(pending.Pop());
            int n = links[0];
            for (int i = 1; i <= n; i++)
            {
                int next = links[i];
                if (!reached[next])
                {
                    reached[next] = true;
                    pending.Push(next);
                }
            }
        }
    }

    /// <summary>
    /// Marks every node reachable from the entry point over layer-0 links (tombstones are walked through, as
    /// searches do). Call with writers held back.
    /// </summary>
    public BitArray ReachableAtLevel0()
    {
        int count = NodeCount;
        var reached = new BitArray(count);
        long entry = Volatile.Read(ref _entry);
        if (entry == EmptyEntry)
        {
            return reached;
        }

        MarkReachableFrom(EntryNode(entry), reached);
        return reached;
    }

    /// <summary>Nodes that no other node links to on layer 0 (the entry point excluded). Call with writers held back.</summary>
    public int CountWithoutInLinksAtLevel0()
    {
        int[] inDegree = InDegreesAtLevel0();
        long entry = Volatile.Read(ref _entry);
        int orphans = 0;
        for (int node = 0; node < inDegree.Length; node++)
        {
            if (inDegree[node] == 0 && (entry == EmptyEntry || node != EntryNode(entry)))
            {
                orphans++;
            }
        }

        return orphans;
    }
}
