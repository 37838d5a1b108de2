using System.Collections.Concurrent;
using Chroma.Server.Storage;
using Chroma.Server.Storage.Internal;

namespace Chroma.Server.Recommendations.Scheduling;

/// <summary>
/// The background scoring worker. Every committed ingest or delete marks its set dirty; a set is
/// scored once it has been quiet for <see cref="ScoringOptions.Debounce"/>, or at the
/// latest <see cref="ScoringOptions.MaxDelay"/> after its first unscored change, so a
/// steady stream still gets fresh scores. Passes run on the background threads, never on a request, up to
/// <see cref="ScoringOptions.ConcurrentPasses"/> sets at once and one pass per set (<see cref="ScoringLanes"/>), so
/// a long pass does not hold up every other set; queries read the last published <see cref="SetScores"/>. A pass runs only under the set's scoring
/// lease (<see cref="IReplicaCoordination"/>): with several replicas on one PostgreSQL database exactly one scores a
/// set and the others serve the ranking it stored (see ScoringScheduler.Replicas.cs).
/// </summary>
internal sealed partial class ScoringScheduler : BackgroundService, IRecordChangeObserver, IHostedLifecycleService
{
    private static readonly TimeSpan ClockTolerance = TimeSpan.FromMilliseconds(1);
    private static readonly SetScores Restoring = SetScores.NotYetScored with { Stale = true };

    private readonly IRecordStore _store;
    private readonly IReplicaCoordination _coordination;
    private readonly SetScoringPass _pass;
    private readonly TimeProvider _time;
    private readonly TimeSpan _debounce;
    private readonly TimeSpan _maxDelay;
    private readonly ILogger<ScoringScheduler> _logger;
    private readonly StorageOutageLog _outageLog;
    private readonly ConcurrentDictionary<long, SetScoringState> _states = new();
    private readonly Lock _gate = new();
    private readonly Dictionary<long, DirtySet> _dirty = [];
    private readonly List<SetScoringState> _toRestore = [];
    private readonly HashSet<long> _pollAfterPass = [];
    private readonly ScoringLanes _lanes;
    private TaskCompletionSource _signal = NewSignal();
    private int _completedPasses;

    /// <summary>Creates the worker.</summary>
    /// <param name="store">The store.</param>
    /// <param name="coordination">How replicas share the sets (one server: it holds every lease).</param>
    /// <param name="pass">The scoring pass.</param>
    /// <param name="options">The scoring options.</param>
    /// <param name="time">The clock.</param>
    /// <param name="logger">The logger.</param>
    /// <param name="rankings">Where rankings are saved at a stop and read at the next start (<see cref="ScoringOptions.SaveRankingOnStop"/>), or null for never.</param>
    public ScoringScheduler(
        IRecordStore store,
        IReplicaCoordination coordination,
        SetScoringPass pass,
        ScoringOptions options,
        TimeProvider time,
        ILogger<ScoringScheduler> logger,
        RankingFiles? rankings = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(coordination);
        _rankings = coordination.Shared ? null : rankings;
        _saveRankings = options.SaveRankingOnStop;
        _store = store;
        _coordination = coordination;
        _leaseDuration = options.LeaseDuration;
        _pollInterval = options.ChangePollInterval;
        _waitingPoll = _pollInterval < WaitingPollInterval ? _pollInterval : WaitingPollInterval;
        _pass = pass;

        // A chunk published while a pass goes on is a new ranking too: its rankings in use are refreshed in the background.
        _pass.ChunkPublished += OnChunkPublished;
        _time = time;
        _debounce = options.Debounce;
        _maxDelay = options.MaxDelay;
        _lanes = new ScoringLanes(options.ConcurrentPasses, time);
        _logger = logger;
        _outageLog = new StorageOutageLog(logger, "scoring", time);
    }

    /// <summary>Raised after every pass (tests wait on it).</summary>
    public event Action<ScoringPassResult>? PassCompleted;

    /// <summary>
    /// Raised on the worker when a set's new ranking is published: after a pass that scored it, after each chunk a pass
    /// publishes while it goes on, or after this replica read another replica's stored ranking. Handlers must return
    /// quickly (queue their work).
    /// </summary>
    public event Action<StoredEmbeddingSet>? RankingPublished;

    /// <summary>Gets how many passes have finished.</summary>
    public int CompletedPasses => Volatile.Read(ref _completedPasses);

    /// <summary>
    /// The scores last published for <paramref name="set"/>. Until the set's stored scores are read
    /// back after a start, an empty snapshot marked stale: a ranking exists and is on its way.
    /// </summary>
    public SetScores Scores(StoredEmbeddingSet set)
    {
        ArgumentNullException.ThrowIfNull(set);
        if (!_states.TryGetValue(set.Key, out var state))
        {
            return SetScores.NotYetScored;
        }

        return state.AwaitingRestore ? Restoring : state.Published;
    }

    /// <inheritdoc />
    public int Order => RecordChangeOrder.Scoring;

    /// <summary>Post-commit hook of ingest: schedules a pass (runs inside the store's commit, so it only marks).</summary>
    public void OnRecordsStored(StoredEmbeddingSet set, IReadOnlyList<InsertedRecord> inserted)
    {
        ArgumentNullException.ThrowIfNull(set);
        ArgumentNullException.ThrowIfNull(inserted);
        if (inserted.Count > 0)
        {
            StateOf(set).Coverage.Stored(inserted[^1].Sequence);
        }

        foreach (var record in inserted)
        {
            if (string.Equals(record.Record.Dataset, DatasetNames.Training, StringComparison.Ordinal))
            {
                // The ranking now describes older training data: served, marked stale, until a pass refits.
                StateOf(set).OnTrainingChanged();
                break;
            }
        }

        MarkDirty(set);
    }

    /// <summary>Gets whether replicas share the database (then another replica may have served a ranking this one has not loaded yet).</summary>
    public bool Shared => _coordination.Shared;

    /// <summary>
    /// Why <paramref name="set"/> cannot be ranked for want of training records, or null. The pass that found it says so
    /// in <paramref name="scores"/>; before a first pass, and on a replica that does not score the set (which serves
    /// what the holder stored, and is told nothing of a pass that found too little training data), the store is asked
    /// while the ranking is empty or stale.
    /// </summary>
    public string? TrainingProblem(StoredEmbeddingSet set, SetScores scores)
    {
        ArgumentNullException.ThrowIfNull(set);
        ArgumentNullException.ThrowIfNull(scores);
        if (scores.TrainingProblem is { } problem)
        {
            return problem;
        }

        var elsewhere = _coordination.Shared && (!_states.TryGetValue(set.Key, out var state) || state.LeaseGeneration == 0);
        return scores.Revision == 0 || (elsewhere && (scores.Entries.Count == 0 || scores.Stale)) ? _pass.TrainingShortfall(set) : null;
    }

    /// <summary>The highest sequence the published scores of <paramref name="set"/> cover, or -1 before the first pass since the start ended.</summary>
    public long CoveredThrough(StoredEmbeddingSet set) => StateOf(set).Coverage.CoveredThrough;

    /// <summary>The highest sequence acknowledged in <paramref name="set"/>, stored before the start included (what "everything sent so far" means to a waiting request).</summary>
    public long LatestStored(StoredEmbeddingSet set) => StateOf(set).Coverage.LatestStored;

    /// <summary>
    /// What a request that waits for everything acknowledged waits for the ranking of <paramref name="set"/> to cover.
    /// On one process: the latest sequence stored (before the start included) and the deletes committed since the start.
    /// With replicas on one database: the set's newest record and delete count read from it now (one indexed query), so
    /// records and deletes answered by any replica before the call count, however long ago this replica last polled.
    /// </summary>
    public async Task<AcknowledgedTarget> AcknowledgedAsync(StoredEmbeddingSet set, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(set);
        var coverage = StateOf(set).Coverage;
        if (!_coordination.Shared)
        {
            return new AcknowledgedTarget(coverage.LatestStored, coverage.DeletesNoted);
        }

        // A record sequence, not the set's change stamp (which deletes raise too): the ranking that covers it may be one
        // another replica stored, read back by the poll, which covers the deletes without a new pass.
        var acknowledged = await _coordination.ReadAcknowledgedAsync(set, cancellationToken).ConfigureAwait(false);
        coverage.Stored(acknowledged.LatestRecord);
        return new AcknowledgedTarget(acknowledged.LatestRecord, acknowledged.DeletedCount);
    }

    /// <summary>
    /// Waits until the published scores of <paramref name="set"/> cover every record stored up to
    /// <paramref name="throughSequence"/> and the first <paramref name="throughDelete"/> deletes (counted as
    /// <see cref="AcknowledgedAsync"/> counts them), or the token is cancelled. A pending pass is started at once
    /// instead of waiting for its debounce. With replicas on one database the shared database is read at once; a replica
    /// that does not score the set asks the holder to start its pass at once (a <c>NOTIFY</c>), and reads the database
    /// again when the holder announces its new ranking, and every <see cref="WaitingPollInterval"/> (or
    /// <see cref="ScoringOptions.ChangePollInterval"/> when shorter) while the wait lasts in case a notice was lost.
    /// Returns whether the scores cover it: false too, at once, when the pass that would have covered it failed (see
    /// <see cref="LastFailure"/>; the set's next change schedules the next pass).
    /// </summary>
    public async Task<bool> WaitForCoverageAsync(StoredEmbeddingSet set, long throughSequence, long throughDelete, CancellationToken cancellationToken)
    {
        var state = StateOf(set);
        var coverage = state.Coverage;
        var askedHolder = false;
        while (true)
        {
            var nextPass = coverage.NextPass;
            if (coverage.CoveredThrough >= 0 && coverage.CoveredThrough >= throughSequence && coverage.DeletesCovered >= throughDelete)
            {
                return true;
            }

            if (coverage.FailedCovering(throughSequence, throughDelete))
            {
                return false;
            }

            var behind = coverage.CoveredThrough < throughSequence || coverage.DeletesCovered < throughDelete;
            Hurry(set, behind);
            if (behind && !askedHolder && _coordination.Shared && state.LeaseGeneration == 0)
            {
                // Another replica scores the set: its pass would start only after its debounce.
                askedHolder = true;
                await AskHolderAsync(state, throughSequence, throughDelete, cancellationToken).ConfigureAwait(false);
            }
            if (!await NextPassAsync(nextPass, cancellationToken).ConfigureAwait(false))
            {
                return false;
            }
        }
    }

    /// <summary>Post-commit hook of deletes: the pass drops the scores and refits if training records went.</summary>
    public void OnRecordsDeleted(StoredEmbeddingSet set, IReadOnlyList<long> sequences)
    {
        ArgumentNullException.ThrowIfNull(set);
        ArgumentNullException.ThrowIfNull(sequences);
        var state = StateOf(set);
        state.OnDeleted(sequences);
        state.Coverage.Deleted();
        MarkDirty(set);
    }

    /// <inheritdoc />
    public override Task StartAsync(CancellationToken cancellationToken)
    {
        // The sets stored before this start: their stored scores are read back first (ExecuteAsync), then a
        // pass, debounced like any change, catches up on records stored while the server was down. What was stored
        // before the start counts as acknowledged: that first pass reads all of it, so it then covers the set's last
        // sequence, and a request waiting through a sequence it read from a stored record is answered.
        // The sets by id alone: ListSets also counts every live record, which this start waited for before the server
        // listened (a cold count of a 1.2-million-record set read the set's whole dataset index).
        foreach (var (setId, last) in _store.ReadLastSequences().OrderBy(s => s.Key, StringComparer.Ordinal))
        {
            if (_store.FindSet(setId) is not { } set)
            {
                continue;
            }

            var state = StateOf(set);
            state.Coverage.Stored(last);
            _lastAtStart[set.Key] = last;
            state.AwaitingRestore = true;
            _toRestore.Add(state);
            MarkDirty(set);
        }

        return base.StartAsync(cancellationToken);
    }

    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await Task.Yield();
        await RestoreAllAsync(stoppingToken).ConfigureAwait(false);
        var passes = new List<Task>();
        while (!stoppingToken.IsCancellationRequested)
        {
            await PollIfDueAsync(stoppingToken).ConfigureAwait(false);
            var (due, wait, signal, now) = TakeDue();
            passes.RemoveAll(pass => pass.IsCompleted);
            foreach (var state in due)
            {
                passes.Add(RunInLaneAsync(state, stoppingToken));
            }

            if (due.Count > 0)
            {
                continue;
            }

            wait = UntilNextPoll(now, wait);
            using var waitCancellation = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
            var timer = wait is { } delay ? Task.Delay(delay, _time, waitCancellation.Token) : Task.Delay(Timeout.Infinite, waitCancellation.Token);

            // The delay counts from when its timer was made: if the clock moved since "now" was read,
            // it would fire late, so look again instead (matters for a manually advanced test clock).
            if (_time.GetUtcNow() - now < ClockTolerance)
            {
                await Task.WhenAny(signal, timer).ConfigureAwait(false);
            }

            await waitCancellation.CancelAsync().ConfigureAwait(false);
        }

        // Stopping: the passes still running end at their next cancellation check.
        await Task.WhenAll(passes).ConfigureAwait(false);
    }

    private async Task RestoreAllAsync(CancellationToken stoppingToken)
    {
        // Every set's last ranking is served (stale when training changed) before any set's pass starts.
        foreach (var state in _toRestore)
        {
            try
            {
                if (_coordination.Shared)
                {
                    // Deletes first, as a follow reads them: the first ranking another replica publishes is then read
                    // as what changed since this read-back (FollowStoredRankingAsync), not whole again.
                    var deletes = await _coordination.ReadDeletesAsync(state.Set, long.MaxValue, stoppingToken).ConfigureAwait(false);
                    await Task.Run(() => _pass.RestoreFollowableAsync(state, stoppingToken), stoppingToken).ConfigureAwait(false);
                    state.DeletesAppliedThroughStamp = deletes.ThroughStamp;
                }
                else
                {
                    var saved = TakeSavedRanking(state, stoppingToken);
                    await Task.Run(() => _pass.RestoreAsync(state, saved, stoppingToken), stoppingToken).ConfigureAwait(false);
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
#pragma warning disable CA1031 // One set's unreadable scores must not stop the others; its pass rescores it.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                state.Restored = true;
                ScoringLog.RestoreFailed(_logger, ex, state.Set.SetId);
            }

            state.AwaitingRestore = false;
        }

        // The rows read back (raw embeddings and signal text) are garbage once decoded, but the collector keeps their
        // memory committed: at 200,000 scored records the process stayed about 500 MiB above what it held. Once, at
        // start, that is handed back to the system, as after an index build.
        // (A ranking file's read leaves less garbage, but the collector keeps what it grew to meanwhile: 3.0 GiB resident
        // after 1.44 million records read from a file, against 2.7 GiB after the database read-back and this step.)
        var restored = _toRestore.Sum(s => (long)s.Published.Entries.Count);
        _toRestore.Clear();
        // Every set is read back: no file left may be used later (a set deleted since, a partial write, files saved while
        // the option was on).
        _rankings?.RemoveLeftovers();
        if (restored >= ReturnMemoryAfterRestoring)
        {
            var (before, after, heap, _, elapsed) = Indexing.Internal.FreedMemory.ReturnToOperatingSystem();
            ScoringLog.RestoredMemoryReturned(_logger, restored, before, after, elapsed.TotalMilliseconds, heap);
        }
    }

    // Scored records read back at start from which the freed memory is handed back (a blocking collection, 0.1-0.3 s).
    private const int ReturnMemoryAfterRestoring = 50_000;

    // Ends when the pass (or read-back of another replica's ranking) after nextPass was taken ends; false when cancelled.
    // With replicas the pass may end on another replica, known here only once a poll reads its revision: poll again
    // every WaitingPollInterval meanwhile (the watermark read, no lease asked for).
    private async Task<bool> NextPassAsync(Task nextPass, CancellationToken cancellationToken)
    {
        while (true)
        {
            try
            {
                if (_coordination.Shared)
                {
                    await nextPass.WaitAsync(_waitingPoll, _time, cancellationToken).ConfigureAwait(false);
                }
                else
                {
                    await nextPass.WaitAsync(cancellationToken).ConfigureAwait(false);
                }

                return true;
            }
            catch (TimeoutException)
            {
                PollSoon();
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return false;
            }
        }
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    private SetScoringState StateOf(StoredEmbeddingSet set) => _states.GetOrAdd(set.Key, _ => new SetScoringState(set));

    private void MarkDirty(StoredEmbeddingSet set)
    {
        StateOf(set);
        var now = _time.GetUtcNow();
        lock (_gate)
        {
            var found = _dirty.TryGetValue(set.Key, out var existing);
            var first = found ? existing.FirstChange : now;

            // A set a waiting request hurried stays due: a change noted meanwhile does not debounce it again.
            var last = found && existing.LastChange == DateTimeOffset.MinValue ? DateTimeOffset.MinValue : now;
            _dirty[set.Key] = new DirtySet(set, first, last);
            _signal.TrySetResult();
        }
    }

    // Someone waits: a set with unscored changes is due now rather than after its debounce. With replicas on one
    // database the changes may have come through another replica, unseen until the next poll: the poll runs now, and
    // while the ranking lacks records or deletes the set is due now (if this replica holds its lease, the pass reads
    // what was stored and deleted elsewhere; if not, the lease is asked for once and the poll's read-back of the
    // holder's ranking covers them).
    private void Hurry(StoredEmbeddingSet set, bool behind)
    {
        lock (_gate)
        {
            if (_dirty.TryGetValue(set.Key, out var dirty))
            {
                if (dirty.LastChange != DateTimeOffset.MinValue)
                {
                    _dirty[set.Key] = dirty with { LastChange = DateTimeOffset.MinValue };
                    _signal.TrySetResult();
                }
            }
            else if (_coordination.Shared && behind && !_lanes.IsRunning(set.Key))
            {
                // (Not while a pass of the set runs: a request it does not cover hurries again when it ends. Before, a
                // request that waited on the holder during its pass queued another pass after it, which then ran with
                // nothing new to score, or refitted on training that arrived meanwhile without debounce.)
                _dirty[set.Key] = new DirtySet(set, _time.GetUtcNow(), DateTimeOffset.MinValue);
            }
        }

        PollSoon();
    }

    // With replicas on one database: the worker reads the watermarks at its next turn instead of at the next interval.
    private void PollSoon()
    {
        if (!_coordination.Shared)
        {
            return;
        }

        Volatile.Write(ref _pollSoon, 1);
        lock (_gate)
        {
            _signal.TrySetResult();
        }
    }

    private (List<SetScoringState> Due, TimeSpan? Wait, Task Signal, DateTimeOffset Now) TakeDue()
    {
        var now = _time.GetUtcNow();
        var due = new List<SetScoringState>();
        TimeSpan? wait = null;
        lock (_gate)
        {
            if (_signal.Task.IsCompleted)
            {
                _signal = NewSignal();
            }

            // As many passes as lanes are free, the most urgent first (NextDueSet), each of a set whose pass may start
            // now (ScoringLanes); the others stay due, and a pass that ends signals the next turn.
            while (!_lanes.Full)
            {
                (var next, wait) = NextDueSet.Pick(
                    _dirty.Where(d => _lanes.MayStart(d.Key)).Select(d => (d.Key, d.Value.FirstChange, d.Value.LastChange)), now, _debounce, _maxDelay);
                if (next is not { } key)
                {
                    break;
                }

                _dirty.Remove(key);
                _lanes.Started(key);
                due.Add(_states[key]);
            }

            return (due, wait, _signal.Task, now);
        }
    }

    // A database outage is logged once per outage (with a count), any other failure each time with its stack trace.
    private void LogPassFailed(Exception exception, string setId)
    {
        if (!_outageLog.TryLog(exception))
        {
            ScoringLog.PassFailed(_logger, exception, setId);
        }
    }

    // One lane's pass, off the worker's loop (which goes on starting others and polling); its end frees the lane.
    // On the pass's thread, between its chunks: a failing handler must not fail the pass.
    private void OnChunkPublished(StoredEmbeddingSet set)
    {
        try
        {
            RankingPublished?.Invoke(set);
        }
#pragma warning disable CA1031 // Serving's refresh is an optimisation; the pass's scores are stored either way.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            ScoringLog.ChunkHandlerFailed(_logger, ex, set.SetId);
        }
    }

    private async Task RunInLaneAsync(SetScoringState state, CancellationToken stoppingToken)
    {
        await Task.Yield();
        try
        {
            await RunPassAsync(state, stoppingToken).ConfigureAwait(false);
        }
#pragma warning disable CA1031 // A failing PassCompleted or RankingPublished handler must not stop the worker.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            LogPassFailed(ex, state.Set.SetId);
        }
        finally
        {
            TimeSpan took;
            bool wasSlow;
            bool pollNow;
            lock (_gate)
            {
                wasSlow = _lanes.IsSlow(state.Set.Key);
                took = _lanes.Ended(state.Set.Key);
                pollNow = _pollAfterPass.Remove(state.Set.Key);
                _signal.TrySetResult();
            }

            if (pollNow)
            {
                PollSoon();
            }

            if (!wasSlow && took >= ScoringLanes.SlowPass)
            {
                ScoringLog.SlowPass(_logger, state.Set.SetId, (long)took.TotalMilliseconds, _lanes.Lanes);
            }
        }
    }

    // Whether the set has a pass running now, in which case the poll leaves the set's watermark to that pass and the
    // worker polls again as soon as the pass ends (noted here, taken when the lane ends). On a replica that does not score the set, that "pass" is only an attempt at
    // the lease, which reads nothing: without the second poll, the new ranking the watermark announced (and a notice
    // hurried this poll for) would be read only at the next regular poll, ChangePollInterval later.
    private bool LeftToRunningPass(StoredEmbeddingSet set)
    {
        lock (_gate)
        {
            return _lanes.IsRunning(set.Key) && _pollAfterPass.Add(set.Key);
        }
    }

    private async Task RunPassAsync(SetScoringState state, CancellationToken stoppingToken)
    {
        ScoringPassResult result;
        var storedAtStart = state.Coverage.LatestStored;

        // On one process, delete calls noted here; with replicas, the shared delete count the pass applies (read below).
        var deletesAtStart = _coordination.Shared ? state.Coverage.DeletesCovered : state.Coverage.DeletesNoted;
        var succeeded = false;
        var lost = false;
        ScoringLease? lease;
        try
        {
            lease = await AcquireAsync(state, stoppingToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            return;
        }
#pragma warning disable CA1031 // The database may be down: the pass is retried, the worker keeps running.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            LogPassFailed(ex, state.Set.SetId);
            NoteFailure(state, ex, storedAtStart, deletesAtStart);
            RetryLater(state.Set);
            state.Coverage.PassEnded(storedAtStart, succeeded: false);
            return;
        }

        if (lease is null)
        {
            // Another replica scores the set; this one serves what it stores (read when the poll sees a new revision).
            ScoringLog.LeaseHeldElsewhere(_logger, state.Set.SetId);
            return;
        }

        // With replicas the pass is recorded in the database as soon as its scores are published, before drift is
        // measured: the other replicas read the ranking (and serve page tokens of it) without waiting for drift, which
        // took seconds on a loaded machine while a client paging from one replica to the other was refused meanwhile.
        Task<bool>? recorded = null;
        long recordedRevision = -1;
        using var passCancellation = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
        using var renewalStop = new CancellationTokenSource();
        var renewal = _coordination.Shared ? RenewWhileRunningAsync(lease, passCancellation, renewalStop.Token) : Task.FromResult(false);
        try
        {
            // Off the worker's loop thread: fitting and scoring are CPU-bound and synchronous.
            result = await Task.Run(
                async () =>
                {
                    await ReadBackOnTakeoverAsync(state, lease, passCancellation.Token).ConfigureAwait(false);
                    if (_coordination.Shared)
                    {
                        // Read before the pass reads records: whatever it reads next was stored before, and is not deleted.
                        var deletes = await QueueDeletesAsync(state, passCancellation.Token).ConfigureAwait(false);
                        deletesAtStart = deletes.DeletedCount;
                        storedAtStart = Math.Max(storedAtStart, deletes.ThroughStamp);
                    }

                    // Requests waiting for this pass's ranking are answered once its scores are published (drift follows).
                    return await _pass.RunAsync(
                        state,
                        readThrough =>
                        {
                            state.Coverage.PassEnded(Math.Max(storedAtStart, readThrough), succeeded: true, deletesAtStart);
                            if (_coordination.Shared)
                            {
                                recordedRevision = state.Published.Revision;
                                recorded = PublishPassAsync(state, lease, storedAtStart, deletesAtStart, stoppingToken);
                            }
                        },
                        _coordination.Shared ? token => PublishChunkAsync(state, lease, deletesAtStart, token) : null,
                        passCancellation.Token).ConfigureAwait(false);
                },
                passCancellation.Token).ConfigureAwait(false);
            succeeded = true;
            _outageLog.Succeeded();
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            state.Coverage.PassEnded(storedAtStart, succeeded: false);
            return;
        }
        catch (Exception ex) when (ex is ScoringLeaseLostException || (ex is OperationCanceledException && passCancellation.IsCancellationRequested))
        {
            lost = true;
            result = new ScoringPassResult(state.Set.SetId, 0, state.Entries.Count, false, null, null);
        }
#pragma warning disable CA1031 // One set's failure must not stop the worker for every other set.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            LogPassFailed(ex, state.Set.SetId);
            NoteFailure(state, ex, storedAtStart, deletesAtStart);
            if (StorageOutage.Is(ex))
            {
                RetryLater(state.Set);
            }

            result = new ScoringPassResult(state.Set.SetId, 0, state.Entries.Count, false, null, null);
        }
        finally
        {
            await renewalStop.CancelAsync().ConfigureAwait(false);
            lost |= await renewal.ConfigureAwait(false);
            state.Lease = null;
        }

        // Whatever ended the pass, the early record is awaited (it logs its own failure and returns true then).
        var recordedEarly = recorded is null ? (bool?)null : await recorded.ConfigureAwait(false);
        if (!succeeded && !lost && _coordination.Shared && state.Coverage.LastFailure is { } failure)
        {
            await ShareFailureAsync(state, lease, failure, stoppingToken).ConfigureAwait(false);
        }

        if (succeeded && !lost)
        {
            // Recorded again only when nothing was recorded, or the ranking changed after (deletes dropped after drift).
            lost = recordedEarly is false
                || ((recordedEarly is null || state.Published.Revision != recordedRevision)
                    && !await PublishPassAsync(state, lease, storedAtStart, deletesAtStart, stoppingToken).ConfigureAwait(false));
        }

        if (lost)
        {
            // What this replica scored may not be stored: forget it; the next poll reads the new holder's ranking.
            ScoringLog.LeaseLost(_logger, state.Set.SetId, lease.Generation);
            state.LeaseGeneration = 0;
            state.LoadedRevision = -1;
            succeeded = false;
        }

        state.Coverage.PassEnded(storedAtStart, succeeded, deletesAtStart);
        if (succeeded)
        {
            RankingPublished?.Invoke(state.Set);
        }

        Interlocked.Increment(ref _completedPasses);
        PassCompleted?.Invoke(result);
    }

    private readonly record struct DirtySet(StoredEmbeddingSet Set, DateTimeOffset FirstChange, DateTimeOffset LastChange);
}
