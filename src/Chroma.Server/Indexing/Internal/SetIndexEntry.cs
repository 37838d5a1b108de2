using Chroma.Server.Storage;

namespace Chroma.Server.Indexing.Internal;

/// <summary>
/// Book-keeping of one embedding set's index: the store sequence it reflects (its cursor into the store's changes),
/// whether the worker is asked to catch it up, and the queries waiting for it to reach a sequence. Nothing of the
/// records themselves waits here: the worker reads them from the store, so memory does not grow with indexing lag.
/// </summary>
internal sealed class SetIndexEntry
{
    private readonly Lock _waitLock = new();
    private readonly Lock _loadLock = new();
    private readonly Func<SetIndexEntry, AdaptiveVectorIndex> _load;
    private Task<AdaptiveVectorIndex>? _loading;
    private readonly List<(long Target, TaskCompletionSource Done)> _waiters = [];
    private long _indexedThrough;
    private int _farBehind;
    private int _scheduled;
    private bool _saveRequested;
    private int _graphChanged;
    private CancellationTokenSource? _linking;

    public SetIndexEntry(StoredEmbeddingSet set, Func<SetIndexEntry, AdaptiveVectorIndex> load)
    {
        Set = set;
        _load = load;
    }

    public StoredEmbeddingSet Set { get; }

    /// <summary>Gets the loaded index, or null while it is not (yet) loaded.</summary>
    public AdaptiveVectorIndex? LoadedIndex => Volatile.Read(ref _loading) is { IsCompletedSuccessfully: true } done ? done.Result : null;

    /// <summary>Gets the store sequence the index reflects: every change of the set stamped at or below it is applied.</summary>
    public long IndexedThroughSequence => Volatile.Read(ref _indexedThrough);

    /// <summary>
    /// Gets a value indicating whether the index is further behind the store than it catches up within a query's wait:
    /// the worker stopped reading because what it read waits to be linked (a full staged tail, or a build's full change
    /// log) and has not read through the store's end since. Queries then answer at once from what the index holds.
    /// </summary>
    public bool FarBehind => Volatile.Read(ref _farBehind) == 1;

    /// <summary>Gets or sets a counter bumped by every applied page of changes (what a save compares against).</summary>
    public long Version { get; set; }

    /// <summary>Gets or sets the <see cref="Version"/> last saved; -1 when the file is missing or stale.</summary>
    public long SavedVersion { get; set; } = -1;

    /// <summary>
    /// Marks the graph changed by something other than the store's changes (any thread): a compaction replaced it, or a
    /// reconnect pass linked nodes in. The next save writes it even when no change was applied since the last.
    /// </summary>
    public void MarkGraphChanged() => Volatile.Write(ref _graphChanged, 1);

    /// <summary>Whether the graph changed since the last call (<see cref="MarkGraphChanged"/>); clears the mark. Worker only.</summary>
    public bool TakeGraphChanged() => Interlocked.Exchange(ref _graphChanged, 0) == 1;

    /// <summary>Gets or sets a value indicating whether the worker should save this index at its next turn (a build just finished).</summary>
    public bool SaveRequested
    {
        get => Volatile.Read(ref _saveRequested);
        set => Volatile.Write(ref _saveRequested, value);
    }

    /// <summary>
    /// Gets or sets when (a <see cref="TimeProvider"/> timestamp) the index was given work that waits for a quiet API: the
    /// save after a build, the check of a graph read from a file (<see cref="EmbeddingSetIndexes.MayRunDeferredWork"/>).
    /// </summary>
    public long DeferredSince { get; set; }

    /// <summary>
    /// Gets or sets the file write of a save that runs in the background (<see cref="EmbeddingSetIndexes.StartSaves"/>),
    /// or null. While it runs the graph must not change: the worker stages what it reads (the queries waiting for it go)
    /// but links nothing, and waits for the write before it applies a deletion.
    /// </summary>
    public Task? SaveInFlight { get; set; }

    /// <summary>Gets a value indicating whether a background save of the graph is still writing.</summary>
    public bool Saving => SaveInFlight is { IsCompleted: false };

    /// <summary>Gets or sets how the index was loaded.</summary>
    public IndexLoadReport? LoadReport { get; set; }

    /// <summary>
    /// The one load of the index (from its file or the store), shared by the worker and queries. A failed load
    /// (say, the store was briefly unreadable) is retried by the next caller instead of failing the set for good.
    /// </summary>
    public Task<AdaptiveVectorIndex> LoadAsync()
    {
        lock (_loadLock)
        {
            if (_loading is null || _loading.IsFaulted || _loading.IsCanceled)
            {
                // A dedicated thread: reading a large set from the store takes seconds, which the pool must not lend.
                _loading = Task.Factory.StartNew(() => _load(this), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
            }

            return _loading;
        }
    }

    /// <summary>Marks the entry for the worker; false when it already was (it is queued once, however often woken).</summary>
    public bool TrySchedule() => Interlocked.Exchange(ref _scheduled, 1) == 0;

    /// <summary>Clears the mark before the worker reads the store, so a wake-up during the read schedules another turn.</summary>
    public void ClearSchedule() => Volatile.Write(ref _scheduled, 0);

    /// <summary>Moves the cursor to <paramref name="sequence"/> (never back) and releases the queries waiting for it.</summary>
    public void MarkIndexedThrough(long sequence)
    {
        lock (_waitLock)
        {
            if (sequence <= _indexedThrough)
            {
                return;
            }

            Volatile.Write(ref _indexedThrough, sequence);
            for (var i = _waiters.Count - 1; i >= 0; i--)
            {
                if (_waiters[i].Target <= sequence)
                {
                    _waiters[i].Done.TrySetResult();
                    _waiters.RemoveAt(i);
                }
            }
        }
    }

    /// <summary>
    /// Starts a link step: <paramref name="interrupt"/> is cancelled as soon as a query waits for the index (at once when
    /// one already does), so the step's graph inserts stop at the next chunk and the worker reads on for the query. At a
    /// million records a batch of 256 inserts takes about 150 ms on 2 cores, more while ingest and scoring share them,
    /// and a query arriving meanwhile waited for the rest of it on top of its read (benchmarks README, "A burst into a
    /// million records"). End it with <see cref="EndLinking"/> before disposing <paramref name="interrupt"/>.
    /// </summary>
    public void StartLinking(CancellationTokenSource interrupt)
    {
        ArgumentNullException.ThrowIfNull(interrupt);
        lock (_waitLock)
        {
            _linking = interrupt;
            if (_waiters.Count > 0)
            {
                interrupt.Cancel();
            }
        }
    }

    /// <summary>Ends the link step <see cref="StartLinking"/> started.</summary>
    public void EndLinking()
    {
        lock (_waitLock)
        {
            _linking = null;
        }
    }

    /// <summary>Marks the index <see cref="FarBehind"/> and releases the queries waiting for it (they answer from what it holds).</summary>
    public void MarkFarBehind()
    {
        lock (_waitLock)
        {
            Volatile.Write(ref _farBehind, 1);
            foreach (var (_, done) in _waiters)
            {
                done.TrySetResult();
            }

            _waiters.Clear();
        }
    }

    /// <summary>Clears <see cref="FarBehind"/>: the worker read through the store's end.</summary>
    public void ClearFarBehind() => Volatile.Write(ref _farBehind, 0);

    /// <summary>
    /// Waits until the index reflects <paramref name="target"/>; false when <paramref name="timeout"/> passed first or the
    /// index is (or falls) <see cref="FarBehind"/>.
    /// </summary>
    public async Task<bool> WaitIndexedAsync(long target, TimeSpan timeout, TimeProvider timeProvider, CancellationToken cancellationToken)
    {
        TaskCompletionSource done;
        lock (_waitLock)
        {
            if (_indexedThrough >= target)
            {
                return true;
            }

            if (_farBehind == 1)
            {
                return false;
            }

            done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _waiters.Add((target, done));
            _linking?.Cancel(); // nothing is registered on it: the link step checks it between chunks
        }

        try
        {
            await done.Task.WaitAsync(timeout, timeProvider, cancellationToken).ConfigureAwait(false);
            return Volatile.Read(ref _indexedThrough) >= target;
        }
        catch (TimeoutException)
        {
            return false;
        }
        finally
        {
            if (!done.Task.IsCompleted)
            {
                lock (_waitLock)
                {
                    _waiters.RemoveAll(w => w.Done == done);
                }
            }
        }
    }
}
