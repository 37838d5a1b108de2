using System.Data.Common;
using System.Diagnostics;
using Chroma.Server.Indexing.Internal;
using Chroma.Server.Storage;

namespace Chroma.Server.Indexing;

/// <summary>Catching up from the store: a page of changes after each set's sequence at a time, woken or polled.</summary>
internal sealed partial class EmbeddingSetIndexes
{
    /// <summary>Pages one set may read in one turn before the other woken sets get theirs.</summary>
    private const int PagesPerTurn = 4;

    /// <summary>The fewest rows a page of wide vectors holds (see <see cref="PageRows"/>).</summary>
    private const int MinimumPageRows = 256;

    /// <summary>
    /// Gets or sets how many staged vectors are linked into a graph at most per step of a turn. The default value is 1,024.
    /// </summary>
    public int LinkChunkSize { get; set; } = 1_024;

    /// <summary>
    /// Gets or sets how long a step links staged vectors (in batches of <see cref="LinkBatchSize"/>) before the store is
    /// read again: what a query that waits for the latest records may wait on top of the read, whatever the dimension
    /// (a graph insert costs about 0.2 ms at 128 floats and several at 1,536). The default value is 20 ms; infinite:
    /// <see cref="LinkChunkSize"/> alone bounds a step.
    /// </summary>
    public TimeSpan LinkStepBudget { get; set; } = TimeSpan.FromMilliseconds(20);

    /// <summary>
    /// Gets or sets how many staged vectors of 128 floats one batch of a link step inserts (over the index threads; fewer
    /// for wider vectors, in proportion, at least 16, so a batch takes about as long whatever the dimension). The
    /// default value is 256.
    /// </summary>
    public int LinkBatchSize { get; set; } = ParallelInsertMinimum;

    /// <summary>
    /// Gets or sets the most floats the staged vectors of one set may hold before the store is read on (a quarter of the
    /// graph's, within bounds: <see cref="PendingLimit"/>). The default value is <see cref="IndexingOptions.MaxStagedFloats"/>.
    /// </summary>
    public int PendingFloatLimit { get; set; }

    /// <summary>
    /// Gets or sets how many deletions of linked records one set may hold while its graph's file is written
    /// (<see cref="AdaptiveVectorIndex.TryHoldRemovals"/>); past it, the worker waits for the write. The default value is
    /// 262,144.
    /// </summary>
    public int HeldRemovalLimit { get; set; } = 262_144;

    /// <summary>
    /// Gets or sets the floats a set's staged tail may hold whatever the size of its graph (when
    /// <see cref="PendingFloatLimit"/> is not smaller). The default value is 4 Mi: 32,768 vectors of 128 floats, scanned in
    /// about 1 ms.
    /// </summary>
    public int SmallestStagedFloats { get; set; } = 4 * 1024 * 1024;

    private long _changesApplied;

    /// <inheritdoc />
    public void OnCommitted(long setKey, long sequence)
    {
        if (_entries.TryGetValue(setKey, out var entry))
        {
            if (entry.IndexedThroughSequence < sequence)
            {
                Wake(entry);
            }
        }
        else
        {
            // A set this server has not seen yet: the poll finds it by id.
            OnChangesMissed();
        }
    }

    /// <inheritdoc />
    public void OnChangesMissed()
    {
        if (Interlocked.Exchange(ref _pollRequested, 1) == 0)
        {
            _work.Writer.TryWrite(_pollMarker);
        }
    }

    /// <summary>
    /// Catches every woken set up with the store, until none is behind and no background save still writes (tests and
    /// shutdown; the worker takes <see cref="ApplyRoundAsync"/> turns instead so saves and polls are not held up by a
    /// long backlog).
    /// </summary>
    public async Task ApplyQueuedAsync()
    {
        do
        {
            while (await ApplyRoundAsync().ConfigureAwait(false))
            {
            }
        }
        while (!IsDisposed && await AwaitSavesInFlightAsync().ConfigureAwait(false));
    }

    /// <summary>
    /// Gives every set woken so far one turn (up to <see cref="PagesPerTurn"/> pages); a set still behind after it is
    /// woken again for the next round. Returns whether any set is still to be caught up. One caller at a time.
    /// </summary>
    public async Task<bool> ApplyRoundAsync()
    {
        if (!await EnterAsync().ConfigureAwait(false))
        {
            return false;
        }

        try
        {
            return await ApplyRoundCoreAsync().ConfigureAwait(false);
        }
        catch (ObjectDisposedException) when (IsDisposed)
        {
            // Disposal outwaited the round (see Dispose): what was not applied is read from the store at the next start.
            return false;
        }
        finally
        {
            _busy.Release();
        }
    }

    private async Task<bool> ApplyRoundCoreAsync()
    {
        var saveRequested = false;
        for (var turns = _work.Reader.Count; turns > 0 && !IsDisposed && _work.Reader.TryRead(out var entry); turns--)
        {
            if (ReferenceEquals(entry, _pollMarker))
            {
                Poll();
                continue;
            }

            entry.ClearSchedule();
            AdaptiveVectorIndex index;
            try
            {
                index = await entry.LoadAsync().ConfigureAwait(false);
            }
#pragma warning disable CA1031 // The worker must outlive a failed load: the set's next change or query retries it.
            catch (Exception ex) when (!(ex is ObjectDisposedException && IsDisposed))
#pragma warning restore CA1031
            {
                if (!_outageLog.TryLog(ex))
                {
                    IndexingLog.LoadFailed(_logger, entry.Set.SetId, ex);
                }

                continue;
            }

            try
            {
                var more = await CatchUpAsync(entry, index).ConfigureAwait(false);
                _outageLog.Succeeded();
                if (more)
                {
                    Wake(entry);
                }
            }
#pragma warning disable CA1031 // One failed read or apply must not stop indexing of the other sets; the next wake retries.
            catch (Exception ex) when (!(ex is ObjectDisposedException && IsDisposed))
#pragma warning restore CA1031
            {
                if (!_outageLog.TryLog(ex))
                {
                    IndexingLog.ApplyFailed(_logger, entry.Set.SetId, ex);
                }
            }

            if (index.StartBuildIfLarge())
            {
                IndexingLog.BuildStarted(_logger, entry.Set.SetId, index.Count, index.ResumedVectors);
            }

            // A compaction first: the estimate and the reconnect pass wait for the rebuilt graph rather than walk the old one.
            if (!entry.Saving)
            {
                index.StartCompactionIfDue(); // not while a save writes the graph: the start waits for the writers
            }

            var mayRunDeferred = MayRunDeferred(entry);
            index.StartEstimateIfStale(onlyWithout: !mayRunDeferred);
            index.StartReconnectIfDue(deferLoadedCheck: !mayRunDeferred);

            saveRequested |= entry.SaveRequested && mayRunDeferred;
        }

        if (saveRequested)
        {
            // A build just finished: save it once the API is quiet (at most a minute later) rather than at the
            // next tick, so a crash soon after keeps it; its checkpoints cover the wait. The write runs in the background.
            StartSaves();
        }

        return _work.Reader.Count > 0;
    }

    /// <summary>
    /// Checks every set's committed sequence against its index and wakes the ones behind, loading sets this server has
    /// not seen (created through another server). The fallback for missed notices; cheap: one small query.
    /// </summary>
    public void Poll()
    {
        Volatile.Write(ref _pollRequested, 0);
        try
        {
            foreach (var (setId, sequence) in _store.ReadLastSequences())
            {
                if (_store.FindSet(setId) is not { } set)
                {
                    continue;
                }

                var entry = Entry(set);
                if (entry.LoadedIndex is null || entry.IndexedThroughSequence < sequence)
                {
                    Wake(entry);
                }
            }

            _outageLog.Succeeded();
        }
        catch (DbException ex)
        {
            if (!_outageLog.TryLog(ex))
            {
                IndexingLog.PollFailed(_logger, ex);
            }
        }

        WakeDeferred();
    }

    /// <summary>Reads and applies up to <see cref="PagesPerTurn"/> pages of the set's changes; true when more wait.</summary>
    private async Task<bool> CatchUpAsync(SetIndexEntry entry, AdaptiveVectorIndex index)
    {
        if (index.Hnsw is not null)
        {
            return await CatchUpStagedAsync(entry, index).ConfigureAwait(false);
        }

        // While a build runs, the exact index goes on answering and takes in every page as it is read: the build's log
        // holds only which records were added (their vectors are the exact index's rows, which the graph adopts or
        // copies a share at a time), so reading on costs no second copy, and a query right after a bulk load is answered
        // from every acknowledged record instead of the part the build has reached (index_behind until the take-over:
        // 15 minutes at a million records). The scan's cost is the one the exact index has near the build's end anyway.
        for (var page = 0; page < PagesPerTurn && !IsDisposed; page++)
        {
            var (changes, anything) = ReadPage(entry);
            if (!anything)
            {
                return false;
            }

            await ApplyAsync(index, changes).ConfigureAwait(false);
            Applied(entry, changes);
            if (!changes.HasMore)
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>
    /// Once the graph answers, up to <see cref="PagesPerTurn"/> steps of: read pages while the store has more and fewer
    /// than <see cref="PendingLimit"/> vectors are staged, staging each (searchable at once; the cursor moves and the
    /// queries waiting for it go), then link the oldest staged vectors into the graph for up to <see cref="LinkStepBudget"/>
    /// (<see cref="LinkStepAsync"/>). So under a
    /// burst of ingest the readers wait for reads, not for the backlog's graph inserts; with the tail full the index is
    /// <see cref="SetIndexEntry.FarBehind"/> until a read reaches the store's end. True when more wait.
    /// </summary>
    private async Task<bool> CatchUpStagedAsync(SetIndexEntry entry, AdaptiveVectorIndex index)
    {
        if (!entry.Saving)
        {
            ApplyHeldRemovals(entry, index);
        }

        for (var step = 0; step < PagesPerTurn && !IsDisposed; step++)
        {
            var readMore = true; // with the tail full, the store is read on once it has room
            var full = false;
            while (!IsDisposed)
            {
                if (index.PendingCount >= PendingLimit(index))
                {
                    entry.MarkFarBehind();
                    full = true;
                    break;
                }

                var (changes, anything) = ReadPage(entry);
                if (anything)
                {
                    var held = false;
                    if (changes.Deleted.Count > 0 && entry.SaveInFlight is { IsCompleted: false } write)
                    {
                        // A deletion may be of a linked record, which changes the graph the save is writing (its writer
                        // gate is held until the write ends): held, searches leave it out at once; past the limit, wait.
                        held = index.TryHoldRemovals(changes.Deleted, HeldRemovalLimit);
                        if (!held)
                        {
                            await write.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing); // its failure is Write's to log
                        }
                    }

                    Stage(index, changes, removeDeleted: !held);
                    Applied(entry, changes);
                }

                readMore = anything && changes.HasMore;
                if (!readMore)
                {
                    break;
                }
            }

            if (entry.Saving)
            {
                // The graph is being written: link nothing until the write ends (it wakes the set). What was read is
                // staged and found, so the waiting queries went already; with the tail full nothing more is read.
                return readMore && !full;
            }

            if (index.Compacting)
            {
                // The graph is being rebuilt without its deleted records: what was read stays staged (searchable) and is
                // linked into the rebuilt graph once it takes over (which wakes the set).
                return readMore && !full;
            }

            var linked = await LinkStepAsync(entry, index).ConfigureAwait(false);
            if (linked > 0)
            {
                entry.Version++; // a save made while they were staged reflects the store only up to them
            }

            if (!readMore && index.PendingCount == 0)
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>
    /// Reads the set's next page of changes after its cursor; a page that reaches the store's end clears
    /// <see cref="SetIndexEntry.FarBehind"/>. <c>Anything</c>: whether the page moves the cursor.
    /// </summary>
    private (RecordChangePage Changes, bool Anything) ReadPage(SetIndexEntry entry)
    {
        var from = entry.IndexedThroughSequence;
        var changes = Admitted(entry.Set, _store.ReadChanges(entry.Set, from, PageRows(entry.Set.Dimension)));
        if (!changes.HasMore)
        {
            entry.ClearFarBehind();
        }

        return (changes, changes.Through > from);
    }

    /// <summary>Counts a page the index took in (applied or staged) and moves the cursor past it, releasing the queries waiting for it.</summary>
    private void Applied(SetIndexEntry entry, RecordChangePage changes)
    {
        Interlocked.Add(ref _changesApplied, changes.Count);
        if (changes.Count > 0)
        {
            entry.Version++;
        }

        entry.MarkIndexedThrough(changes.Through);
    }

    /// <summary>
    /// Runs <paramref name="body"/> for 0..<paramref name="count"/>: over the index threads from
    /// <see cref="ParallelInsertMinimum"/> graph inserts on (parallel inserts can leave a node without an in-link until the
    /// next reconnect pass), in order on the calling thread below it, as small pages always were: on an index thread,
    /// below the requests' priority, a small batch waited for the very queries waiting for it (2,000 records/s of 128
    /// floats: 233 queries/s from one caller against 967 in order here).
    /// </summary>
    private Task InsertAsync(int count, Action<int> body, CancellationToken cancellationToken = default) =>
        count >= ParallelInsertMinimum ? _threads.ForAsync(count, body, cancellationToken) : InOrder(count, body, cancellationToken);

    /// <summary>Runs <paramref name="body"/> for 0..<paramref name="count"/> here, in order; cancelled before an item, it throws <see cref="OperationCanceledException"/>.</summary>
    private static Task InOrder(int count, Action<int> body, CancellationToken cancellationToken = default)
    {
        for (var i = 0; i < count; i++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            body(i);
        }

        return Task.CompletedTask;
    }

    /// <summary>
    /// Links the oldest staged vectors a batch at a time, until
    /// <see cref="LinkChunkSize"/> are linked, none is left, <see cref="LinkStepBudget"/> has passed or a query waits
    /// for the index; returns how many.
    /// </summary>
    private async Task<int> LinkStepAsync(SetIndexEntry entry, AdaptiveVectorIndex index)
    {
        var started = Stopwatch.GetTimestamp();
        var batchSize = Math.Max(16, (int)Math.Min(LinkBatchSize, LinkBatchSize * 128L / Math.Max(1, index.Dimension)));
        var linked = 0;
        using var interrupt = new CancellationTokenSource();
        entry.StartLinking(interrupt);
        try
        {
            while (linked < LinkChunkSize && !IsDisposed)
            {
                var batch = await index.LinkPendingAsync(Math.Min(batchSize, LinkChunkSize - linked), (count, body) => InsertAsync(count, body, interrupt.Token)).ConfigureAwait(false);
                linked += batch;
                // A query waiting for the latest records is served by the next read, not after this step's other batches
                // (nor after the rest of a batch: a query that starts waiting stops it at the next chunk).
                if (batch == 0 || interrupt.IsCancellationRequested ||
                    (LinkStepBudget != Timeout.InfiniteTimeSpan && Stopwatch.GetElapsedTime(started) >= LinkStepBudget))
                {
                    break;
                }
            }
        }
        finally
        {
            entry.EndLinking();
        }

        return linked;
    }

    /// <summary>
    /// The rows of one page of <paramref name="dimension"/>-float vectors: <see cref="CatchUpPageSize"/> up to 128 floats,
    /// fewer in proportion beyond (at least <see cref="MinimumPageRows"/>): 341 at 1,536 floats, a page of 2 MiB of vectors as
    /// at 128. Sized in rows alone, a page of wide vectors was what bounded the staged tail, so each search scanned
    /// 6.3 million floats at 1,536 (1.5 times <see cref="PendingFloatLimit"/>).
    /// </summary>
    private int PageRows(int dimension) =>
        (int)Math.Min(CatchUpPageSize, Math.Max(MinimumPageRows, CatchUpPageSize * 128L / Math.Max(1, dimension)));

    /// <summary>
    /// How many vectors may wait staged (scanned by every search) before the store is read on: a quarter of the graph's
    /// floats, within <see cref="SmallestStagedFloats"/> (or <see cref="PendingFloatLimit"/> where that is smaller) and
    /// <see cref="PendingFloatLimit"/>; at least a page. So past the smallest tail a search scans at most a quarter of
    /// what an exact search of the set costs (during its first build every search scans all of it), and the tail grows
    /// with the set, as the time to link a burst does (a graph insert costs more, the larger the graph). A fixed tail of
    /// 32 Mi floats left a set of 200,000 records a quarter to a third of its queries a second under ingest it could not
    /// keep up with, for answers that still said the index was behind (benchmarks README, "A burst into a million
    /// records"). While a compaction runs, and until what it left staged is linked, the tail may fill to
    /// <see cref="PendingFloatLimit"/> (<see cref="AdaptiveVectorIndex.StagesPastQuarter"/>).
    /// </summary>
    private int PendingLimit(AdaptiveVectorIndex index)
    {
        var dimension = Math.Max(1, index.Dimension);
        var graphFloats = (long)(index.Hnsw?.Count ?? 0) * dimension;
        var wanted = index.StagesPastQuarter ? PendingFloatLimit : graphFloats / 4; // a compaction links nothing meanwhile
        var floats = Math.Clamp(wanted, Math.Min(SmallestStagedFloats, PendingFloatLimit), PendingFloatLimit);
        return (int)Math.Max(PageRows(dimension), floats / dimension);
    }

    /// <summary>Removes from the graph the deletions held while its file was written (none may be writing now). Worker only.</summary>
    private void ApplyHeldRemovals(SetIndexEntry entry, AdaptiveVectorIndex index)
    {
        if (index.ApplyHeldRemovals() is > 0 and var removed)
        {
            IndexingLog.HeldRemovalsApplied(_logger, entry.Set.SetId, removed);
        }
    }

    private static void Stage(AdaptiveVectorIndex index, RecordChangePage changes, bool removeDeleted)
    {
        // Deletions are of records inserted in earlier pages (see ApplyAsync): pending ones leave the tail, others the
        // graph (unless the caller held them: TryHoldRemovals).
        if (removeDeleted)
        {
            foreach (var sequence in changes.Deleted)
            {
                index.Remove(sequence);
            }
        }

        index.StageMany(changes.Sequences, changes.Vectors, changes.Datasets);
    }

    private async Task ApplyAsync(AdaptiveVectorIndex index, RecordChangePage changes)
    {
        // A deletion in the page is of a record inserted in an earlier one (a record deleted by the snapshot is not
        // among the page's inserts), so the order of the two lists does not matter.
        foreach (var sequence in changes.Deleted)
        {
            index.Remove(sequence);
        }

        // Graph inserts are thread-safe and cost ~0.2-0.5 ms each (a large page goes over the index threads); the exact
        // index takes one writer.
        var dimension = index.Dimension;
        var count = changes.Sequences.Length;
        void Add(int i) => index.Add(changes.Sequences[i], changes.Vectors.AsSpan(i * dimension, dimension), changes.Datasets[i]);
        await (index.Hnsw is not null ? InsertAsync(count, Add) : InOrder(count, Add)).ConfigureAwait(false);
    }
}
