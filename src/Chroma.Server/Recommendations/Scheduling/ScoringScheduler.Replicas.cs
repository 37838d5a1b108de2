using Chroma.Server.Storage;

namespace Chroma.Server.Recommendations.Scheduling;

/// <summary>
/// Scoring across replicas that share one database. A pass runs only under the set's scoring lease; the holder renews
/// it while the pass runs (every third of <see cref="ScoringOptions.LeaseDuration"/>) and at each poll while it holds
/// the set, and every score write is fenced by the lease's generation. Every <see cref="ScoringOptions.ChangePollInterval"/>
/// the worker reads each set's watermark (latest sequence, delete count, stored-ranking revision, lease): records
/// stored or deleted elsewhere wake a pass on the holder, which drops the records deleted through any replica before
/// it reads records (<see cref="QueueDeletesAsync"/>) and publishes how many deletes its ranking applies; a new
/// revision, or deletes the served ranking lacks, make every other replica read the stored ranking, so all replicas
/// serve the same one; an expired lease with unscored records is taken over. On PostgreSQL the replicas also hear each
/// other at once (<c>LISTEN</c>/<c>NOTIFY</c>, ScoringScheduler.Notices.cs): a commit wakes the holder, a published pass
/// makes the others poll now, a waiting request asks the holder for its pass. Notices can be lost, so the poll stays:
/// a waiting request runs it at once and every <see cref="WaitingPollInterval"/> while it waits, and a takeover is
/// noticed by it alone.
/// On SQLite nothing is polled or heard and the one process always holds every lease.
/// </summary>
internal sealed partial class ScoringScheduler
{
    /// <summary>
    /// How often, with replicas on one database, a replica reads the watermarks while a request waits for a ranking
    /// that does not yet cover it (the ranking may come from another replica's pass): 200 ms, or
    /// <see cref="ScoringOptions.ChangePollInterval"/> when that is shorter.
    /// </summary>
    public static readonly TimeSpan WaitingPollInterval = TimeSpan.FromMilliseconds(200);

    private readonly string _holder = $"{Environment.MachineName}/{Environment.ProcessId}/{Guid.NewGuid().ToString("N")[..8]}";
    private readonly TimeSpan _leaseDuration;
    private readonly TimeSpan _pollInterval;
    private readonly TimeSpan _waitingPoll;
    private DateTimeOffset _nextPoll = DateTimeOffset.MinValue;
    private bool _pollFailing;
    private int _pollSoon;

    /// <summary>Gets the name this replica holds scoring leases under (unique per server start).</summary>
    public string ReplicaName => _holder;

    /// <summary>
    /// Releases the leases this replica holds once its worker stopped, so another replica takes over at once; a server
    /// that owns its database starts saving its rankings instead (<see cref="StoppedAsync"/> waits for that).
    /// </summary>
    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken).ConfigureAwait(false);
        if (!_coordination.Shared)
        {
            StartSavingRankings(cancellationToken);
            return;
        }

        foreach (var state in _states.Values.Where(s => s.LeaseGeneration != 0))
        {
            try
            {
                await _coordination.ReleaseAsync(new ScoringLease(state.Set.Key, _holder, state.LeaseGeneration, 0), cancellationToken).ConfigureAwait(false);
            }
#pragma warning disable CA1031 // Best effort: an unreleased lease simply expires.
            catch (Exception)
#pragma warning restore CA1031
            {
                return;
            }
        }
    }

    private async Task<ScoringLease?> AcquireAsync(SetScoringState state, CancellationToken cancellationToken)
    {
        var lease = await _coordination.TryAcquireAsync(state.Set, _holder, _leaseDuration, cancellationToken).ConfigureAwait(false);
        if (lease is not null)
        {
            state.Lease = lease;
        }

        return lease;
    }

    // Taken over (or first held since the start): the previous holder may have stored more than this replica read.
    // Runs under the lease's renewal, since reading a large ranking back can take longer than the lease lasts.
    private async Task ReadBackOnTakeoverAsync(SetScoringState state, ScoringLease lease, CancellationToken cancellationToken)
    {
        if (_coordination.Shared && (lease.Generation != state.LeaseGeneration || state.DeletesAppliedThroughStamp < 0))
        {
            ScoringLog.TookOver(_logger, state.Set.SetId, lease.Generation);

            // The stored ranking is read without deleted records: it applies every delete through the stamp read before it.
            var before = await _coordination.ReadDeletesAsync(state.Set, long.MaxValue, cancellationToken).ConfigureAwait(false);
            await _pass.ReloadAsync(state, cancellationToken).ConfigureAwait(false);
            state.DeletesAppliedThroughStamp = before.ThroughStamp;
        }

        state.LeaseGeneration = lease.Generation;
    }

    // A replica that does not score the set reads what the scoring replica stored: whole the first time (or after it
    // scored the set itself), then only the scores written and the records deleted since its last read. The deletes are
    // read first: one committed after that read is left out of the scores read, and read as a delete next time.
    // Returns how many of the set's deletes the ranking now applies.
    private async Task<long> FollowStoredRankingAsync(SetScoringState state, CancellationToken cancellationToken)
    {
        var incremental = _pass.CanFollow(state);
        var deletes = await _coordination.ReadDeletesAsync(state.Set, incremental ? state.DeletesAppliedThroughStamp : long.MaxValue, cancellationToken).ConfigureAwait(false);
        if (incremental)
        {
            state.QueueDeleted(deletes.Sequences);
            await Task.Run(() => _pass.FollowAsync(state, cancellationToken), cancellationToken).ConfigureAwait(false);
        }
        else
        {
            await Task.Run(() => _pass.ReloadAsync(state, cancellationToken), cancellationToken).ConfigureAwait(false);
        }

        state.DeletesAppliedThroughStamp = deletes.ThroughStamp;
        return deletes.DeletedCount;
    }

    // The holder's pass, before it reads records: the records deleted through any replica since the last pass are
    // queued for it to drop (by their change stamp, so none is missed or counted twice), and the returned count is what
    // its ranking then applies.
    private async Task<SetDeletes> QueueDeletesAsync(SetScoringState state, CancellationToken cancellationToken)
    {
        var deletes = await _coordination.ReadDeletesAsync(state.Set, state.DeletesAppliedThroughStamp, cancellationToken).ConfigureAwait(false);
        state.QueueDeleted(deletes.Sequences);
        state.DeletesAppliedThroughStamp = Math.Max(state.DeletesAppliedThroughStamp, deletes.ThroughStamp);
        return deletes;
    }

    // Returns true when the lease was lost (taken over, or not renewable before it expired); the pass is then cancelled.
    private async Task<bool> RenewWhileRunningAsync(ScoringLease lease, CancellationTokenSource pass, CancellationToken stop)
    {
        var expires = lease.ExpiresUnixMs;
        while (true)
        {
            try
            {
                await Task.Delay(_leaseDuration / 3, _time, stop).ConfigureAwait(false);
                if (await _coordination.RenewAsync(lease, _leaseDuration, stop).ConfigureAwait(false))
                {
                    expires = _time.GetUtcNow().ToUnixTimeMilliseconds() + (long)_leaseDuration.TotalMilliseconds;
                    continue;
                }
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                return false;
            }
#pragma warning disable CA1031 // The database did not answer: keep trying while the lease lasts.
            catch (Exception)
#pragma warning restore CA1031
            {
                if (_time.GetUtcNow().ToUnixTimeMilliseconds() < expires)
                {
                    continue;
                }
            }

            await pass.CancelAsync().ConfigureAwait(false);
            return true;
        }
    }

    /// <summary>
    /// With replicas: when the scoring replica has stored a newer ranking of <paramref name="set"/> than this replica
    /// serves, waits until this replica has read it (its polls are hurried) or the token is cancelled; returns at once
    /// when nothing newer is stored. A page token of another replica may name that newer ranking.
    /// </summary>
    public async Task CatchUpWithStoredRankingAsync(StoredEmbeddingSet set, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(set);
        if (!_coordination.Shared)
        {
            return;
        }

        var stored = (await _coordination.ReadAcknowledgedAsync(set, cancellationToken).ConfigureAwait(false)).ScoresRevision;
        var state = StateOf(set);
        while (stored > 0 && state.LoadedRevision < stored)
        {
            if (!await NextRankingAsync(state, cancellationToken).ConfigureAwait(false))
            {
                return;
            }
        }
    }

    /// <summary>
    /// Waits for the next ranking this replica reads or publishes for <paramref name="set"/> (its polls are hurried), or
    /// until the token is cancelled.
    /// </summary>
    public async Task NextRankingAsync(StoredEmbeddingSet set, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(set);
        await NextRankingAsync(StateOf(set), cancellationToken).ConfigureAwait(false);
    }

    // Hurries the polls and waits for the next ranking read or published; false when the token ended the wait.
    private async Task<bool> NextRankingAsync(SetScoringState state, CancellationToken cancellationToken)
    {
        var next = state.Coverage.NextPass;
        PollSoon();
        return await NextPassAsync(next, cancellationToken).ConfigureAwait(false);
    }

    // Returns false when the lease was taken over before the pass could be published.
    private async Task<bool> PublishPassAsync(SetScoringState state, ScoringLease lease, long coveredThrough, long deletesApplied, CancellationToken cancellationToken)
    {
        try
        {
            if (await _coordination.PublishPassAsync(lease, coveredThrough, deletesApplied, state.Published.ComputedUnixMs, cancellationToken).ConfigureAwait(false) is not { } revision)
            {
                return false;
            }

            state.LoadedRevision = revision;
            return true;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return true;
        }
#pragma warning disable CA1031 // The scores are stored; other replicas read them after the next pass.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            LogPassFailed(ex, state.Set.SetId);
            RetryLater(state.Set);
            return true;
        }
    }

    // A chunk of a long pass, published on this replica (and stored): recorded as a pass that covers no more than the
    // ranking covered before (GREATEST keeps the stored coverage), so the other replicas read its scores, only those
    // written since their last read, and serve what this replica serves. Before, they served their last read until the
    // pass ended (probe W, W1: 2,000 records for 13 minutes, 202,000 for 24, while the holder served a growing ranking,
    // and page tokens were refused from one replica to the other).
    private Task<bool> PublishChunkAsync(SetScoringState state, ScoringLease lease, long deletesApplied, CancellationToken cancellationToken) =>
        PublishPassAsync(state, lease, state.Coverage.CoveredThrough, deletesApplied, cancellationToken);

    // A pass that failed (e.g. the database is down) runs again Scoring:MaxDelay later, unless a change comes sooner.
    private void RetryLater(StoredEmbeddingSet set)
    {
        var now = _time.GetUtcNow();
        lock (_gate)
        {
            if (!_dirty.ContainsKey(set.Key))
            {
                _dirty[set.Key] = new DirtySet(set, now, now + _maxDelay - _debounce);
                _signal.TrySetResult();
            }
        }
    }

    private TimeSpan? UntilNextPoll(DateTimeOffset now, TimeSpan? wait)
    {
        if (!_coordination.Shared)
        {
            return wait;
        }

        // A notice (or a waiting request) that asked for a poll after this turn's poll had begun: its signal was
        // consumed with the turn's (TakeDue), so without this the poll it asked for waited for the regular interval.
        if (Volatile.Read(ref _pollSoon) == 1)
        {
            return TimeSpan.Zero;
        }

        var untilPoll = _nextPoll - now;
        untilPoll = untilPoll < TimeSpan.Zero ? TimeSpan.Zero : untilPoll;
        return wait is { } w && w < untilPoll ? w : untilPoll;
    }

    private async Task PollIfDueAsync(CancellationToken cancellationToken)
    {
        var now = _time.GetUtcNow();
        var soon = Interlocked.Exchange(ref _pollSoon, 0) == 1;
        if (!_coordination.Shared || (now < _nextPoll && !soon))
        {
            return;
        }

        _nextPoll = now + _pollInterval;
        try
        {
            var marks = await Task.Run(_coordination.ReadWatermarks, cancellationToken).ConfigureAwait(false);
            foreach (var mark in marks)
            {
                await ApplyAsync(mark, now.ToUnixTimeMilliseconds(), cancellationToken).ConfigureAwait(false);
            }

            _pollFailing = false;
            _outageLog.Succeeded();
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return;
        }
#pragma warning disable CA1031 // The database may be down: poll again later, keep serving what is published.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            // A database outage is scoring's outage (one warning, no stack trace); any other failure once until a poll
            // succeeds, not once per poll.
            if (!_outageLog.TryLog(ex) && !_pollFailing)
            {
                ScoringLog.PollFailed(_logger, ex, (long)_pollInterval.TotalMilliseconds);
            }

            _pollFailing = true;
        }
    }

    private async Task ApplyAsync(SetWatermark mark, long nowMs, CancellationToken cancellationToken)
    {
        if (_store.FindSet(mark.SetId) is not { } set)
        {
            return;
        }

        var state = StateOf(set);
        if (LeftToRunningPass(set))
        {
            // The running pass reads what was stored and deleted elsewhere; the poll its end asks for compares with the
            // watermark before it, so what changed meanwhile still marks the set dirty (or is read from the holder).
            state.Coverage.Stored(mark.LastSequence);
            return;
        }

        var previous = state.Watermark;
        state.Watermark = mark;
        state.Coverage.Stored(mark.LastSequence);
        var ownDeletes = state.TakeOwnDeletes();
        var deletedElsewhere = previous is not null && mark.DeletedCount - previous.DeletedCount > ownDeletes;
        var storedElsewhere = previous is not null && mark.LastSequence != previous.LastSequence;
        var mine = state.LeaseGeneration != 0 && string.Equals(mark.Holder, _holder, StringComparison.Ordinal) && mark.Generation == state.LeaseGeneration;
        if (mine)
        {
            // The next pass reads the deletes made elsewhere (QueueDeletesAsync). Not when the ranking already covers
            // the watermark (a pass the change's notice started did): a pass would publish the same ranking again, and
            // every other replica would read it back.
            if ((deletedElsewhere || storedElsewhere)
                && (mark.LastSequence > state.Coverage.CoveredThrough || mark.DeletedCount > state.Coverage.DeletesCovered))
            {
                MarkDirty(set);
            }

            // Held while this replica lives, so the set does not move (and get refitted) without need.
            if (mark.ExpiresUnixMs - nowMs < (long)(_leaseDuration.TotalMilliseconds / 2)
                && !await _coordination.RenewAsync(new ScoringLease(set.Key, _holder, mark.Generation, mark.ExpiresUnixMs), _leaseDuration, cancellationToken).ConfigureAwait(false))
            {
                state.LeaseGeneration = 0;
            }

            return;
        }

        state.LeaseGeneration = 0;
        if (mark.ScoresRevision != state.LoadedRevision || mark.DeletedCount > state.Coverage.DeletesCovered)
        {
            // Serve exactly what the scoring replica stored. Stored scores are read back without the records deleted
            // since, so the ranking applies every delete this watermark counts, made through any replica (this one
            // included): never fewer than the stored ranking's own DeletesApplied, and the deletes after its pass too.
            // After a whole read, only the scores written since and the deletes since are read (FollowAsync).
            var deletesApplied = await FollowStoredRankingAsync(state, cancellationToken).ConfigureAwait(false);

            // Reported as the holder reports it, so computed_unix_ms does not change with the replica asked.
            state.StampComputed(mark.ComputedUnixMs);
            state.LoadedRevision = mark.ScoresRevision;
            state.AwaitingRestore = false;
            state.Coverage.PassEnded(mark.CoveredThrough, succeeded: true, Math.Max(mark.DeletedCount, deletesApplied));
            RankingPublished?.Invoke(set);
        }
        else if ((storedElsewhere || deletedElsewhere) && !state.Published.Stale
            && await Task.Run(() => _pass.TrainingChangedSince(set, state.Published), cancellationToken).ConfigureAwait(false))
        {
            // Training records came or went through another replica: the holder refits, and marks its ranking stale
            // meanwhile; so does this one, until it reads the holder's new ranking.
            state.OnTrainingChanged();
        }

        AdoptFailure(state, mark.Failure);

        var expired = mark.Holder is null || mark.ExpiresUnixMs <= nowMs;
        if (expired && (mark.LastSequence > mark.CoveredThrough || storedElsewhere || deletedElsewhere))
        {
            // Nobody scores the set (its holder stopped or died): take it over.
            MarkDirty(set);
        }
    }
}
