using Chroma.Server.Indexing.Internal;

namespace Chroma.Server.Indexing;

/// <summary>
/// Staging once the graph answers: what the worker reads from the store is searchable by a scan at once
/// (<see cref="PendingVectors"/>) and linked into the graph behind it, so a query that waits for what was acknowledged
/// before it (read-your-writes) waits for a read, not for the graph inserts.
/// </summary>
internal sealed partial class AdaptiveVectorIndex
{
    /// <summary>How many of the oldest staged vectors a batch links when it was stopped before any insert.</summary>
    private const int InterruptedLinkMinimum = 16;

    private readonly Lock _linkCountLock = new();
    private PendingVectors? _pending;

    // The graph's live count when the batch being linked began, or -1 while none is. Its vectors enter the graph one
    // by one but leave the tail together afterwards (Linked): counted in both meanwhile, a set's size read mid-batch
    // exceeded its records by up to a batch (the probe's 150,024 of 150,000 with no deletion).
    private int _graphCountBeforeLink = -1;

    /// <summary>Gets how many vectors are staged and not linked into the graph yet (0 before the graph answers).</summary>
    public int PendingCount => Volatile.Read(ref _pending)?.Count ?? 0;

    /// <summary>
    /// The vectors <paramref name="hnsw"/> holds and those staged behind it, each once: while a batch is linked its
    /// vectors are counted as staged (they leave the tail only once every one is in the graph), and the graph as it
    /// was before the batch. Only the worker changes the graph's count, and while it links a batch only that batch
    /// does, so this is what the index held before the batch, plus what was staged since. Held removals
    /// (<see cref="TryHoldRemovals"/>) are still in the graph and not counted.
    /// </summary>
    private (int Graph, int Staged) LinkedAndStaged(HnswVectorIndex hnsw)
    {
        lock (_linkCountLock)
        {
            var graph = (_graphCountBeforeLink >= 0 ? _graphCountBeforeLink : hnsw.Count) - HeldRemovalCount;
            return (graph, PendingCount);
        }
    }

    /// <summary>The vectors <paramref name="hnsw"/> holds and those staged behind it, each once (<see cref="LinkedAndStaged"/>).</summary>
    private int IndexedCount(HnswVectorIndex hnsw)
    {
        var (graph, staged) = LinkedAndStaged(hnsw);
        return graph + staged;
    }

    /// <summary>
    /// Gets the store sequence a saved graph reflects, given that the worker has read through
    /// <paramref name="readThrough"/>: the one before the oldest staged vector while any is staged.
    /// </summary>
    public long LinkedThrough(long readThrough) =>
        Volatile.Read(ref _pending)?.OldestSequence is { } oldest ? Math.Min(readThrough, oldest - 1) : readThrough;

    /// <summary>
    /// Stages the vector of record <paramref name="sequence"/> (newer than every vector held): searchable at once,
    /// linked into the graph by <see cref="LinkPendingAsync"/>. Only once the graph answers (<see cref="Hnsw"/>).
    /// </summary>
    public void Stage(long sequence, ReadOnlySpan<float> vector, string dataset) => Tail().Add(sequence, vector, dataset);

    /// <summary>
    /// Stages the vectors of many records at once (<paramref name="sequences"/> ascending, each newer than every vector
    /// held; row i of <paramref name="vectors"/> at <c>i * Dimension</c>), as <see cref="Stage"/> each, but with the
    /// searches that scan the tail held up once, not once per vector.
    /// </summary>
    public void StageMany(ReadOnlySpan<long> sequences, ReadOnlySpan<float> vectors, ReadOnlySpan<string> datasets) =>
        Tail().AddRange(sequences, vectors, datasets);

    private PendingVectors Tail()
    {
        if (Hnsw is null)
        {
            throw new InvalidOperationException("Vectors are staged only once the graph answers searches.");
        }

        var pending = Volatile.Read(ref _pending);
        if (pending is null)
        {
            pending = new PendingVectors(Dimension, Metric);
            Volatile.Write(ref _pending, pending);
        }

        return pending;
    }

    /// <summary>
    /// Links up to <paramref name="max"/> of the oldest staged vectors into the graph (spread over
    /// <paramref name="forEach"/>, which runs its body for each index and returns when all are done, or throws
    /// <see cref="OperationCanceledException"/> once it skipped some: then only the oldest ones it inserted are linked);
    /// returns how many.
    /// </summary>
    public async Task<int> LinkPendingAsync(int max, Func<int, Action<int>, Task> forEach)
    {
        ArgumentNullException.ThrowIfNull(forEach);
        if (Compacting)
        {
            return 0; // the tail waits for the rebuilt graph (AdaptiveVectorIndex.Compaction)
        }

        if (Volatile.Read(ref _pending) is not { Count: > 0 } pending || Hnsw is not { } hnsw)
        {
            Volatile.Write(ref _drainingAfterCompaction, false);
            return 0;
        }

        var oldest = pending.Oldest(max);
        lock (_linkCountLock)
        {
            _graphCountBeforeLink = hnsw.Count;
        }

        VectorBatch linked;
        try
        {
            hnsw.TrackDroppedLinks();
            linked = await InsertOldestAsync(hnsw, oldest, forEach).ConfigureAwait(false);

            // A vector linked beside others can be left with no in-link (a neighbour's list, pruned by a parallel insert,
            // dropped it): no search would return it until the next reconnect pass, so a query right after its
            // acknowledgement could miss it. While it is still staged (scanned exactly), it is linked in from its nearest
            // reachable node with room, or, when all are full, by the pass. So is an older node that these inserts pruned
            // from its neighbours' lists: it was found before them.
            if (linked.Count > 0 && hnsw.LinkInPossiblyUnreachable(linked) > 0)
            {
                _settings.Reconnected?.Invoke(hnsw.Reconnect());
            }

            // The graph holds them now; a search between the two steps finds them in both, and the merge keeps one. The
            // count moves from the tail to the graph in one step with them.
            lock (_linkCountLock)
            {
                pending.Linked(linked);
                _graphCountBeforeLink = -1;
            }

            if (pending.Count == 0)
            {
                Volatile.Write(ref _drainingAfterCompaction, false);
            }
        }
        catch
        {
            // The batch stays staged (found by the scan; the next link step takes it again): what the graph took of it
            // leaves the graph, so no record is held by both once the count stops looking past the batch.
            for (var i = 0; i < oldest.Count; i++)
            {
                hnsw.Remove(oldest.Sequence(i));
            }

            lock (_linkCountLock)
            {
                _graphCountBeforeLink = -1;
            }

            throw;
        }

        return linked.Count;
    }

    /// <summary>
    /// Inserts <paramref name="oldest"/> through <paramref name="forEach"/> and returns what the graph now holds of it: all
    /// of it, or, when <paramref name="forEach"/> was cancelled (a query began to wait for the index, so the inserts not
    /// started were skipped and the worker reads on after the ones in flight instead of after the whole batch), its
    /// longest inserted run from the oldest (at least the oldest <see cref="InterruptedLinkMinimum"/>, inserted here when it
    /// was stopped before any). A vector inserted past one that was skipped leaves the graph again, so every vector the
    /// graph holds stays older than every staged one (a save's header relies on it).
    /// </summary>
    private static async Task<VectorBatch> InsertOldestAsync(HnswVectorIndex hnsw, VectorBatch oldest, Func<int, Action<int>, Task> forEach)
    {
        var inserted = new bool[oldest.Count];
        try
        {
            await forEach(oldest.Count, i =>
            {
                hnsw.Add(oldest.Sequence(i), oldest.Vector(i), oldest.Dataset(i));
                inserted[i] = true;
            }).ConfigureAwait(false);
            return oldest;
        }
        catch (OperationCanceledException)
        {
            var run = Array.IndexOf(inserted, false);
            run = run < 0 ? oldest.Count : run;
            if (run == 0)
            {
                // Stopped before any insert (queries waiting back to back would stop every batch so): the oldest few are
                // inserted anyway, here and in order, so the tail keeps draining and a waiting query waits no more than that.
                for (run = 0; run < Math.Min(InterruptedLinkMinimum, oldest.Count); run++)
                {
                    if (!inserted[run])
                    {
                        hnsw.Add(oldest.Sequence(run), oldest.Vector(run), oldest.Dataset(run));
                        inserted[run] = true;
                    }
                }
            }

            for (var i = run; i < oldest.Count; i++)
            {
                if (inserted[i])
                {
                    hnsw.Remove(oldest.Sequence(i));
                }
            }

            return oldest.Take(run);
        }
    }

    private IReadOnlyList<VectorNeighbor> SearchWithPending(HnswVectorIndex hnsw, ReadOnlySpan<float> query, int k, string? dataset, NearestSearchOptions options)
    {
        // The tail first: a vector linked meanwhile is then in the graph's answer (or both), never in neither.
        var pending = Volatile.Read(ref _pending);
        var staged = pending is { Count: > 0 } ? pending.Search(query, k, dataset) : [];
        var graph = SearchGraph(hnsw, Volatile.Read(ref _heldRemovals), query, k, dataset, options);
        return PendingVectors.Merge(graph, staged, k);
    }

    private bool RemovePending(long sequence) => Volatile.Read(ref _pending)?.Remove(sequence) ?? false;
}
