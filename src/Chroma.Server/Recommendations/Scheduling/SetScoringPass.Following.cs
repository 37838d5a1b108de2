using System.Diagnostics;
using Chroma.Server.Storage;

namespace Chroma.Server.Recommendations.Scheduling;

/// <summary>
/// On a replica that does not score a set: after each pass the scoring replica publishes, read only the scores it wrote
/// since this replica's last read (<see cref="IScoreChangeReader"/>) into the entries, drop the deleted records, and
/// publish the result as a whole read would (outside-in probe H, H3: a whole read of every pass cost seconds per tens of
/// thousands of records and kept the replica's ranking behind).
/// </summary>
internal sealed partial class SetScoringPass
{
    /// <summary>
    /// Gets whether <see cref="FollowAsync"/> can read only what changed for <paramref name="state"/>: the store stamps its
    /// scores, and the entries are a read of the stored ranking (<see cref="ReloadAsync"/> or an earlier follow) through a
    /// known stamp, with deletes applied through a known change stamp.
    /// </summary>
    public bool CanFollow(SetScoringState state)
    {
        ArgumentNullException.ThrowIfNull(state);
        return _store is IScoreChangeReader && state.Restored && state.FollowedStamp >= 0 && state.DeletesAppliedThroughStamp >= 0;
    }

    /// <summary>
    /// <see cref="RestoreAsync(SetScoringState, CancellationToken)"/> at a start with replicas: the read-back also notes
    /// the score stamp it read through, so the first ranking another replica publishes afterwards is read by
    /// <see cref="FollowAsync"/> (only what changed) rather than whole a second time (at a million records each whole
    /// read takes tens of seconds). The caller notes the deletes' change stamp read before it.
    /// </summary>
    public async Task RestoreFollowableAsync(SetScoringState state, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(state);
        if (state.Restored)
        {
            return;
        }

        var stamp = _store is IScoreChangeReader changes ? changes.ReadLatestScoreStamp(state.Set) : -1;
        await RestoreAsync(state, following: false, keepEntries: true, saved: null, cancellationToken).ConfigureAwait(false);
        state.FollowedStamp = stamp;
    }

    /// <summary>
    /// Reads the scores stored for <paramref name="state"/>'s set since its last read into its entries, applies the
    /// deletes queued (the caller queues those made since <see cref="SetScoringState.DeletesAppliedThroughStamp"/> first),
    /// and publishes them: current when every entry has one version of the current training data, else served stale, as
    /// <see cref="ReloadAsync"/> decides from a whole read. Only when <see cref="CanFollow"/>.
    /// </summary>
    public async Task FollowAsync(SetScoringState state, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(state);
        if (!CanFollow(state))
        {
            throw new InvalidOperationException($"The stored ranking of '{state.Set.SetId}' was not read whole yet; reload it first.");
        }

        var started = Stopwatch.GetTimestamp();
        var reader = (IScoreChangeReader)_store;
        state.TrainingChangesSeen = state.TrainingChanges;
        var fingerprint = _store.ReadTrainingFingerprint(state.Set);
        var after = state.FollowedStamp;
        var changed = await ReadBackAsync(state.Set, (set, visitor) => reader.VisitScoresChangedAfter(set, after, visitor), cancellationToken).ConfigureAwait(false);
        foreach (var entry in changed.Entries)
        {
            state.Entries[entry.Sequence] = entry;
        }

        var dropped = state.ApplyDeletes();
        state.FollowedStamp = changed.VisitResult;
        state.FollowedScoredUnixMs = Math.Max(state.FollowedScoredUnixMs, changed.ScoredUnixMs);
        PublishFollowed(state, fingerprint.Version);
        var elapsedMs = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        ScoringLog.FollowedChanges(_logger, state.Set.SetId, changed.Entries.Count, dropped, state.Entries.Count, elapsedMs);
    }

    // The decision RestoreAsync makes from a whole read, made from the entries: current when they have one version, of
    // the current training data; else served stale under the version of the highest sequence.
    private void PublishFollowed(SetScoringState state, string trainingVersion)
    {
        if (state.Entries.Count == 0)
        {
            state.EndRefit();
            state.TrainingVersion = null;
            state.MaxScoredSequence = 0;
            state.Publish(Now(), null);
            return;
        }

        var entries = state.EntriesInSequenceOrder();
        var first = entries[0].TrainingVersion;
        var oneVersion = true;
        foreach (var entry in entries)
        {
            if (!string.Equals(entry.TrainingVersion, first, StringComparison.Ordinal))
            {
                oneVersion = false;
                break;
            }
        }

        if (oneVersion && first is not null && ModelVersion.SameTraining(first, trainingVersion))
        {
            state.EndRefit();
            state.TrainingVersion = first;
            state.MaxScoredSequence = entries[^1].Sequence;
            state.Publish(state.FollowedScoredUnixMs, null, entries);
        }
        else
        {
            state.TrainingVersion = null;
            state.MaxScoredSequence = 0;
            var served = state.Published;
            if (!oneVersion && served.TrainingVersion is { } servedVersion && served.Entries.Count > 0)
            {
                // A refit in progress on the scoring replica (its rows rewritten chunk by chunk): that replica serves its
                // previous ranking, marked stale, until the refit ends, and so does this one, rather than a mix of both
                // models' scores (outside-in probe I, O1). Its entries keep up with the store for the read after.
                state.ServeStale(served.Entries, servedVersion, served.ComputedUnixMs);
                return;
            }

            state.ServeStale(entries, entries[^1].TrainingVersion ?? string.Empty, state.FollowedScoredUnixMs);
        }
    }
}
