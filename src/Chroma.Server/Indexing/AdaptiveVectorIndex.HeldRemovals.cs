using Chroma.Server.Indexing.Internal;

namespace Chroma.Server.Indexing;

/// <summary>
/// Deletions read while the graph's file is written: the write holds the graph's writer gate for seconds at a million
/// records, so removing a linked vector then would hold the worker, and every query waiting for the deletion's sequence,
/// until the write ends (2 s waits answered <c>index_behind</c> during a retention run). Such removals are held instead:
/// searches leave the held vectors out at once, and the worker applies them to the graph once the write has ended.
/// </summary>
internal sealed partial class AdaptiveVectorIndex
{
    // Published whole (by the worker only): a search reads one snapshot and never sees it change.
    private HeldRemovals? _heldRemovals;

    /// <summary>Gets how many linked vectors are deleted but still in the graph, left out of every search.</summary>
    public int HeldRemovalCount => Volatile.Read(ref _heldRemovals)?.Count ?? 0;

    /// <summary>
    /// Removes the staged vectors among <paramref name="sequences"/> and holds the removal of the linked ones (the graph's
    /// file is being written); searches leave them out from now on. False, holding nothing, when the graph does not
    /// answer yet or more than <paramref name="limit"/> removals would then be held: the caller waits for the write and
    /// removes them as usual. Worker only.
    /// </summary>
    public bool TryHoldRemovals(IReadOnlyList<long> sequences, int limit)
    {
        ArgumentNullException.ThrowIfNull(sequences);
        var held = Volatile.Read(ref _heldRemovals);
        if (Hnsw is not { } hnsw || (held?.Count ?? 0) + sequences.Count > limit)
        {
            return false;
        }

        HashSet<long>? page = null;
        foreach (var sequence in sequences)
        {
            // Looking a key up does not take the writer gate the write holds.
            if (!RemovePending(sequence) && hnsw.Graph.Contains(sequence))
            {
                (page ??= []).Add(sequence);
            }
        }

        if (page is not null)
        {
            Volatile.Write(ref _heldRemovals, HeldRemovals.With(held, page));
        }

        return true;
    }

    /// <summary>
    /// Removes the held vectors from the graph (then searches stop leaving them out); returns how many. Worker only, and
    /// only while no write of the graph runs: each removal takes the graph's writer gate.
    /// </summary>
    public int ApplyHeldRemovals()
    {
        if (Volatile.Read(ref _heldRemovals) is not { } held || Hnsw is not { } hnsw)
        {
            return 0;
        }

        // Under the count's lock, so a size read meanwhile counts each held vector out once (not in the graph's count and
        // again as held).
        lock (_linkCountLock)
        {
            foreach (var sequence in held.Sequences)
            {
                hnsw.Remove(sequence);
            }

            Volatile.Write(ref _heldRemovals, null);
        }

        return held.Count;
    }

    /// <summary>
    /// The graph's <paramref name="k"/> nearest vectors that are not held removals: deeper (4 times each round) while held
    /// ones fill the answer, at most <paramref name="k"/> plus their number deep.
    /// </summary>
    private static IReadOnlyList<VectorNeighbor> SearchGraph(
        HnswVectorIndex hnsw, HeldRemovals? held, ReadOnlySpan<float> query, int k, string? dataset, NearestSearchOptions options)
    {
        if (held is null)
        {
            return hnsw.Search(query, k, dataset, options);
        }

        var deepest = k + held.Count;
        for (var depth = k; ; depth = (int)Math.Min((long)depth * 4, deepest))
        {
            var found = hnsw.Search(query, depth, dataset, options);
            var kept = new List<VectorNeighbor>(Math.Min(k, found.Count));
            foreach (var neighbor in found)
            {
                if (kept.Count == k)
                {
                    break;
                }

                if (!held.Contains(neighbor.Sequence))
                {
                    kept.Add(neighbor);
                }
            }

            if (kept.Count == k || found.Count < depth || depth >= deepest)
            {
                return kept;
            }
        }
    }
}
