using System.Collections.Concurrent;
using Chroma.Server.Storage;

namespace Chroma.Server.Indexing.Internal;

/// <summary>One committed change waiting for the indexing worker: inserted records, or deleted sequences.</summary>
internal readonly record struct IndexChange(IReadOnlyList<InsertedRecord>? Inserted, IReadOnlyList<long>? Deleted);

/// <summary>
/// Book-keeping of one embedding set's index: the changes the store committed and the worker has not yet
/// applied, and how far it got. <see cref="Enqueued"/> and <see cref="Applied"/> count changes, so a query
/// that saw N enqueued changes knows its writes are searchable once N are applied.
/// </summary>
internal sealed class SetIndexEntry
{
    private readonly Lock _waitLock = new();
    private readonly Lock _loadLock = new();
    private readonly Func<SetIndexEntry, AdaptiveVectorIndex> _load;
    private Task<AdaptiveVectorIndex>? _loading;
    private readonly List<(long Target, TaskCompletionSource Done)> _waiters = [];
    private long _enqueued;
    private long _applied;
    private bool _saveRequested;

    public SetIndexEntry(StoredEmbeddingSet set, Func<SetIndexEntry, AdaptiveVectorIndex> load)
    {
        Set = set;
        _load = load;
    }

    public StoredEmbeddingSet Set { get; }

    /// <summary>Gets the loaded index, or null while it is not (yet) loaded.</summary>
    public AdaptiveVectorIndex? LoadedIndex => Volatile.Read(ref _loading) is { IsCompletedSuccessfully: true } done ? done.Result : null;

    public ConcurrentQueue<IndexChange> Pending { get; } = new();

    public long Enqueued => Volatile.Read(ref _enqueued);

    public long Applied => Volatile.Read(ref _applied);

    /// <summary>Gets or sets the store's high-water sequence when the index was loaded; older inserts are already in it.</summary>
    public long LoadedThroughSequence { get; set; }

    /// <summary>Gets or sets the highest sequence whose record the index reflects.</summary>
    public long IndexedThroughSequence { get; set; }

    /// <summary>Gets or sets a counter bumped by every applied change (what a save compares against).</summary>
    public long Version { get; set; }

    /// <summary>Gets or sets the <see cref="Version"/> last saved; -1 when the file is missing or stale.</summary>
    public long SavedVersion { get; set; } = -1;

    /// <summary>Gets or sets a value indicating whether the worker should save this index at its next turn (a build just finished).</summary>
    public bool SaveRequested
    {
        get => Volatile.Read(ref _saveRequested);
        set => Volatile.Write(ref _saveRequested, value);
    }

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

    public void MarkEnqueued() => Interlocked.Increment(ref _enqueued);

    /// <summary>Counts one more applied change and releases the queries waiting for it.</summary>
    public void MarkApplied()
    {
        lock (_waitLock)
        {
            var applied = Interlocked.Increment(ref _applied);
            for (var i = _waiters.Count - 1; i >= 0; i--)
            {
                if (_waiters[i].Target <= applied)
                {
                    _waiters[i].Done.TrySetResult();
                    _waiters.RemoveAt(i);
                }
            }
        }
    }

    /// <summary>Waits until <paramref name="target"/> changes are applied; false when <paramref name="timeout"/> passed first.</summary>
    public async Task<bool> WaitAppliedAsync(long target, TimeSpan timeout, TimeProvider timeProvider, CancellationToken cancellationToken)
    {
        TaskCompletionSource done;
        lock (_waitLock)
        {
            if (Applied >= target)
            {
                return true;
            }

            done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _waiters.Add((target, done));
        }

        try
        {
            await done.Task.WaitAsync(timeout, timeProvider, cancellationToken).ConfigureAwait(false);
            return true;
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
