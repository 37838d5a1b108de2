using System.Collections.Concurrent;
using System.Data.Common;
using System.Threading.Channels;
using Chroma.Server.Indexing.Hnsw;
using Chroma.Server.Indexing.Internal;
using Chroma.Server.Storage;
using Chroma.Server.Storage.Internal;

namespace Chroma.Server.Indexing;

/// <summary>
/// One <see cref="AdaptiveVectorIndex"/> per embedding set, kept up to date by tailing the durable store: each index
/// remembers the last store sequence it reflects, and the <see cref="IndexingWorker"/> reads the set's next changes
/// after it (<see cref="IRecordStore.ReadChanges"/>) and applies them. Commits of this server
/// (<see cref="OnRecordsStored"/>, <see cref="OnRecordsDeleted"/>), notices of other servers' commits
/// (<see cref="OnCommitted"/>) and a periodic poll only wake the worker; no record waits in memory for it. A search
/// first reads the set's latest committed sequence and waits (up to <see cref="IndexingOptions.CatchUpTimeout"/>)
/// until the index reflects it, so a record is findable as soon as its batch is acknowledged, on any server.
/// </summary>
internal sealed partial class EmbeddingSetIndexes : IRecordChangeObserver, IStoreChangeSink, IDisposable
{
    /// <summary>Batches at least this large are inserted into a graph from several threads.</summary>
    private const int ParallelInsertMinimum = 256;

    private bool _startLoadEnded;
    private readonly IRecordStore _store;
    private readonly IndexingOptions _options;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger<EmbeddingSetIndexes> _logger;
    private readonly StorageOutageLog _outageLog;
    private readonly ConcurrentDictionary<long, SetIndexEntry> _entries = new();
    // Not SingleReader: only the multi-reader unbounded channel counts its items (a round takes as many as are queued).
    private readonly Channel<SetIndexEntry> _work = Channel.CreateUnbounded<SetIndexEntry>();
    private readonly IndexBuildThreads _threads;
    /// <summary>How long disposal waits for a round or save in progress to reach its next page.</summary>
    private static readonly TimeSpan DisposeWait = TimeSpan.FromSeconds(5);

    // Not disposed: a late caller may still test it after Dispose (EnterAsync checks the flag around it).
#pragma warning disable CA2213
    private readonly SemaphoreSlim _busy = new(1, 1);
#pragma warning restore CA2213
    private int _disposed;
    private long _catchUpTimeouts;
    private long _farBehindAnswers;
    private int _pollRequested;

    // Queued in place of a set when every set is to be polled (a missed notice); never loaded.
    private readonly SetIndexEntry _pollMarker = new(new StoredEmbeddingSet(-1, string.Empty, new()), _ => throw new InvalidOperationException());

    /// <summary>Creates the registry over <paramref name="store"/>; indexes are saved in <paramref name="indexDirectory"/>.</summary>
    public EmbeddingSetIndexes(IRecordStore store, IndexingOptions options, string indexDirectory, TimeProvider timeProvider, ILogger<EmbeddingSetIndexes> logger)
    {
        _store = store;
        _options = options;
        _timeProvider = timeProvider;
        _logger = logger;
        _outageLog = new StorageOutageLog(logger, "indexing", timeProvider);
        IndexDirectory = Path.GetFullPath(indexDirectory);
        _threads = new IndexBuildThreads(options.BuildThreads > 0 ? options.BuildThreads : IndexBuildThreads.DefaultCount);
        PendingFloatLimit = options.MaxStagedFloats;
    }

    /// <summary>
    /// Gets or sets whether work nothing waits for, waiting since a timestamp of this registry's
    /// <see cref="TimeProvider"/>, may run now: the save right after a build, the first check of a graph read from
    /// a file and a new estimate of a graph that has one (its scans of every vector took tens of CPU-seconds at
    /// 1,444,000 records), each of which holds a core (a million 128-d vectors: a 1.5 s save, a 0.8 s walk) while a replica that
    /// just took over or started answers its first queries. The server sets the gRPC activity's rule
    /// (<c>GrpcActivity.MayRunDeferred</c>: a quiet API, or a wait long enough); the periodic and final saves do not
    /// wait. Null (the default value) lets that work run at once.
    /// </summary>
    public Func<long, bool>? MayRunDeferredWork { get; set; }

    /// <summary>
    /// Gets or sets whether the load of every set's index at start (<see cref="IndexingWorker"/>) has ended, done or
    /// failed: until then query readiness waits for the sets whose index is not loaded
    /// (<see cref="HealthChecks.IndexStartLoadHealthCheck"/>).
    /// </summary>
    public bool StartLoadEnded
    {
        get => Volatile.Read(ref _startLoadEnded);
        set => Volatile.Write(ref _startLoadEnded, value);
    }

    /// <summary>Gets the dedicated threads index work runs on.</summary>
    public IndexBuildThreads Threads => _threads;

    /// <summary>
    /// Gets or sets a hook awaited after every step of every background build (tests drive builds with it);
    /// set it before the first set is loaded. The default value is null.
    /// </summary>
    public Func<IndexBuildStep, CancellationToken, ValueTask>? BuildStepObserver { get; set; }

    /// <summary>
    /// Gets or sets a hook awaited after every step of a compaction (a rebuild without deleted records; steps of
    /// <see cref="BuildStepSize"/> vectors): tests hold a compaction with it. Set it before the set is loaded. The default
    /// value is null.
    /// </summary>
    public Func<HnswRebuild, CancellationToken, ValueTask>? CompactionStepObserver { get; set; }

    /// <summary>Gets or sets how many vectors one build step inserts (and one compaction step copies). The default value is 8 192.</summary>
    public int BuildStepSize { get; set; } = 8_192;

    /// <summary>
    /// Gets or sets how many inserted records one read of the store brings (one page) for vectors of up to 128 floats;
    /// wider vectors get fewer rows in proportion (at least 256), so a page holds about as many floats whatever the width
    /// (<see cref="PageRows"/>). The default value is 4 096.
    /// </summary>
    public int CatchUpPageSize { get; set; } = 4_096;

    /// <summary>Gets the folder the set indexes are saved in.</summary>
    public string IndexDirectory { get; }

    /// <summary>Gets how many searches answered before the index had caught up (the wait timed out).</summary>
    public long CatchUpTimeouts => Interlocked.Read(ref _catchUpTimeouts);

    /// <summary>
    /// Gets how many queries answered at once, without what was committed before them, because their set's index was
    /// <see cref="SetIndexEntry.FarBehind"/> (counted apart from <see cref="CatchUpTimeouts"/>).
    /// </summary>
    public long FarBehindAnswers => Interlocked.Read(ref _farBehindAnswers);

    /// <summary>
    /// Raised after each wait of a query for the index to take in what the store committed before it (read-your-writes):
    /// the seconds waited (by the <see cref="TimeProvider"/>) and whether the index caught up within the wait.
    /// </summary>
    public event Action<double, bool>? CatchUpWaited;

    /// <summary>Gets how many inserts and deletions the worker has read from the store and applied since start.</summary>
    public long ChangesApplied => Interlocked.Read(ref _changesApplied);

    /// <summary>The <paramref name="k"/> nearest live records of <paramref name="set"/>, nearest first.</summary>
    public Task<IReadOnlyList<VectorNeighbor>> SearchAsync(
        StoredEmbeddingSet set, float[] query, int k, string? dataset, CancellationToken cancellationToken = default) =>
        SearchAsync(set, query, k, dataset, default, cancellationToken);

    /// <summary>The <paramref name="k"/> nearest live records of <paramref name="set"/>, nearest first, searched as <paramref name="options"/> say.</summary>
    public async Task<IReadOnlyList<VectorNeighbor>> SearchAsync(
        StoredEmbeddingSet set, float[] query, int k, string? dataset, NearestSearchOptions options, CancellationToken cancellationToken = default) =>
        (await FindAsync(set, query, k, dataset, options, cancellationToken).ConfigureAwait(false)).Neighbors;

    /// <summary>
    /// The <paramref name="k"/> nearest live records of <paramref name="set"/>, nearest first, searched as
    /// <paramref name="options"/> say, and whether the index had taken in everything the store committed for the set
    /// before the call. The query waits for that (read-your-writes, across servers too), up to
    /// <see cref="IndexingOptions.CatchUpTimeout"/>; not when the index is <see cref="SetIndexEntry.FarBehind"/> (ingest
    /// outran it by more than it links within a wait, or a query's wait ran out), where waiting would cost every query
    /// the whole timeout and still miss records: it answers at once from what the index holds, until the index's intake
    /// reads through the store's end.
    /// </summary>
    public async Task<NearestAnswer> FindAsync(
        StoredEmbeddingSet set, float[] query, int k, string? dataset, NearestSearchOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(query);
        var (index, behind) = await CaughtUpAsync(set, cancellationToken).ConfigureAwait(false);
        return new NearestAnswer(index.Search(query, k, dataset, options), behind);
    }

    /// <summary>
    /// The set's index once it has taken in everything the store committed for the set before the call (waiting as
    /// <see cref="FindAsync"/> does), and whether it had not by the end of the wait: for a caller that searches it more
    /// than once for one request (deeper, when records the store has deleted still fill its answer).
    /// </summary>
    public async Task<(IVectorIndex Index, bool IndexBehind)> CaughtUpAsync(StoredEmbeddingSet set, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(set);
        var entry = Entry(set);

        // Read-your-writes, across servers too: what the store has committed for the set when the query arrives. A
        // database outage fails the query here (the caller answers Unavailable): it could not read the records anyway.
        var target = ReadTarget(set);
        var index = await entry.LoadAsync().WaitAsync(cancellationToken).ConfigureAwait(false);
        var behind = target is null;
        if (target is { } committed && entry.IndexedThroughSequence < committed)
        {
            Wake(entry);
            var waitStart = _timeProvider.GetTimestamp();
            var caughtUp = await entry.WaitIndexedAsync(committed, _options.CatchUpTimeout, _timeProvider, cancellationToken).ConfigureAwait(false);
            CatchUpWaited?.Invoke(_timeProvider.GetElapsedTime(waitStart).TotalSeconds, caughtUp);
            if (!caughtUp)
            {
                behind = true;
                if (entry.FarBehind)
                {
                    Interlocked.Increment(ref _farBehindAnswers);
                }
                else
                {
                    Interlocked.Increment(ref _catchUpTimeouts);
                    IndexingLog.CatchUpTimedOut(_logger, set.SetId, committed - entry.IndexedThroughSequence, _options.CatchUpTimeout);

                    // The index took in less than ingest added within a whole wait (a CPU-starved intake, a long stall):
                    // the next queries would wait it out too (probe X, X9: every FindNearest took 2 s under load). It
                    // counts as far behind, so they answer at once, until its intake reads through the store's end.
                    entry.MarkFarBehind();
                }
            }
        }

        return (index, behind);
    }

    /// <summary>The store sequence through which the set's index has taken in every change (it searches all of them).</summary>
    public long IndexedThrough(StoredEmbeddingSet set)
    {
        ArgumentNullException.ThrowIfNull(set);
        return Entry(set).IndexedThroughSequence;
    }

    /// <summary>The state of the set's index (kind, size, search breadth, recall estimate), or null while it is not loaded.</summary>
    public IndexStatus? GetStatus(StoredEmbeddingSet set)
    {
        ArgumentNullException.ThrowIfNull(set);
        return _entries.TryGetValue(set.Key, out var entry) ? entry.LoadedIndex?.Status() : null;
    }

    /// <summary>The state of every loaded set index, with its set's public id (for the server's metrics).</summary>
    public IReadOnlyList<(string SetId, IndexStatus Status)> LoadedStatuses()
    {
        var statuses = new List<(string, IndexStatus)>(_entries.Count);
        foreach (var entry in _entries.Values)
        {
            if (entry.LoadedIndex is { } index)
            {
                statuses.Add((entry.Set.SetId, index.Status()));
            }
        }

        return statuses;
    }

    /// <summary>The store sequence the set's index reflects (0 while it is not loaded).</summary>
    public long IndexedThroughSequence(StoredEmbeddingSet set)
    {
        ArgumentNullException.ThrowIfNull(set);
        return _entries.TryGetValue(set.Key, out var entry) ? entry.IndexedThroughSequence : 0;
    }

    /// <inheritdoc />
    public int Order => RecordChangeOrder.Index;

    /// <summary>Wakes the worker for the set (it reads the records from the store). Runs inside the store's commit: must not block.</summary>
    public void OnRecordsStored(StoredEmbeddingSet set, IReadOnlyList<InsertedRecord> inserted)
    {
        ArgumentNullException.ThrowIfNull(set);
        ArgumentNullException.ThrowIfNull(inserted);
        Wake(Entry(set));
    }

    /// <summary>Wakes the worker for the set (it reads the deletions from the store). Runs inside the store's commit: must not block.</summary>
    public void OnRecordsDeleted(StoredEmbeddingSet set, IReadOnlyList<long> sequences)
    {
        ArgumentNullException.ThrowIfNull(set);
        ArgumentNullException.ThrowIfNull(sequences);
        Wake(Entry(set));
    }

    /// <summary>Loads the set's index (from its file, else from the store) unless it is loaded already.</summary>
    public Task<AdaptiveVectorIndex> LoadAsync(StoredEmbeddingSet set) => Entry(set).LoadAsync();

    /// <summary>How the set's index was loaded, or null while it is not.</summary>
    public IndexLoadReport? GetLoadReport(StoredEmbeddingSet set)
    {
        ArgumentNullException.ThrowIfNull(set);
        return _entries.TryGetValue(set.Key, out var entry) ? entry.LoadReport : null;
    }

    /// <summary>Whether work of <paramref name="entry"/> that waits for a quiet API may run now.</summary>
    private bool MayRunDeferred(SetIndexEntry entry) => MayRunDeferredWork?.Invoke(entry.DeferredSince) ?? true;

    /// <summary>Wakes every set whose deferred work (<see cref="MayRunDeferredWork"/>) may run now; called with each poll.</summary>
    private void WakeDeferred()
    {
        foreach (var entry in _entries.Values)
        {
            var waiting = entry.SaveRequested || entry.LoadedIndex?.Hnsw is { NeverReconnected: true } || entry.LoadedIndex?.HasStaleEstimate == true;
            if (waiting && MayRunDeferred(entry))
            {
                Wake(entry);
            }
        }
    }

    /// <summary>
    /// Runs <see cref="StartSaves"/> between the worker's rounds (its periodic save): the files are written in the
    /// background while the rounds go on. Returns how many saves were started.
    /// </summary>
    public async Task<int> StartSavesAsync()
    {
        if (!await EnterAsync().ConfigureAwait(false))
        {
            return 0;
        }

        try
        {
            return StartSaves();
        }
        finally
        {
            _busy.Release();
        }
    }

    /// <summary>Waits until a set is to be caught up; false once no more can come.</summary>
    public ValueTask<bool> WaitForWorkAsync(CancellationToken cancellationToken = default) =>
        _work.Reader.WaitToReadAsync(cancellationToken);

    /// <summary>
    /// Waits for the background saves still writing, then runs <see cref="SaveChanged"/> on the index threads (a save of a
    /// large graph takes seconds) and returns when every changed index is written (shutdown, tests).
    /// </summary>
    public async Task<int> SaveChangedAsync()
    {
        if (!await EnterAsync().ConfigureAwait(false))
        {
            return 0;
        }

        try
        {
            await AwaitSavesInFlightAsync().ConfigureAwait(false);
            return await _threads.RunAsync(SaveChanged).ConfigureAwait(false);
        }
        catch (ObjectDisposedException) when (IsDisposed)
        {
            return 0; // the last saved file and the store still hold everything; the next start catches up
        }
        finally
        {
            _busy.Release();
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        _work.Writer.TryComplete();

        // A round or save in progress (the worker's last one at shutdown may outlast the host's stop timeout) stops
        // at its next page once the flag is set: wait for it, briefly, instead of pulling the indexes from under it.
        var idle = _busy.Wait(DisposeWait);
        Task[] writing = [.. _entries.Values.Select(e => e.SaveInFlight).OfType<Task>().Where(t => !t.IsCompleted)];
        if (writing.Length > 0)
        {
            // A background save still writing holds its graph: let it end, briefly (its temporary file is dropped otherwise).
            Task.WaitAny([Task.WhenAll(writing)], DisposeWait);
        }

        foreach (var entry in _entries.Values)
        {
            entry.LoadedIndex?.Dispose();
        }

        _threads.Dispose();
        if (idle)
        {
            _busy.Release();
        }
    }

    /// <summary>Gets whether disposal has begun (tests hold a round until it has).</summary>
    internal bool IsDisposed => Volatile.Read(ref _disposed) != 0;

    // One round or save at a time, and none once disposal has begun.
    private async Task<bool> EnterAsync()
    {
        if (IsDisposed)
        {
            return false;
        }

        await _busy.WaitAsync().ConfigureAwait(false);
        if (IsDisposed)
        {
            _busy.Release();
            return false;
        }

        return true;
    }

    private SetIndexEntry Entry(StoredEmbeddingSet set) =>
        _entries.GetOrAdd(set.Key, static (_, state) => new SetIndexEntry(state.Set, state.Self.Load), (Set: set, Self: this));

    private void Wake(SetIndexEntry entry)
    {
        if (entry.TrySchedule())
        {
            _work.Writer.TryWrite(entry);
        }
    }

    // The set's committed sequence where a failure to read it needs no word (the worker that goes on reads the store too).
    private bool TryReadLastSequence(StoredEmbeddingSet set, out long sequence)
    {
        try
        {
            sequence = _store.ReadLastSequence(set);
            return true;
        }
        catch (DbException)
        {
            sequence = 0;
            return false;
        }
    }

    // The set's committed sequence for a query. An outage is thrown for the caller to answer Unavailable, unlogged as any
    // other query's is (the background components log the outage once); any other failure of the store is logged, and the
    // query answers from what is indexed without waiting, saying so (null: index_behind).
    private long? ReadTarget(StoredEmbeddingSet set)
    {
        try
        {
            return _store.ReadLastSequence(set);
        }
        catch (DbException ex) when (!StorageOutage.Is(ex))
        {
            IndexingLog.TargetUnreadable(_logger, set.SetId, ex);
            return null;
        }
    }
}
