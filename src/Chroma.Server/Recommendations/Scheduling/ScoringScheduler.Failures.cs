using Chroma.Server.Storage;

namespace Chroma.Server.Recommendations.Scheduling;

// What clients are told about failed passes: the last failure of each set scored here, until a pass publishes a ranking.
internal sealed partial class ScoringScheduler
{
    /// <summary>
    /// Why the last scoring pass of <paramref name="set"/> on this replica failed, or null when the set's last pass here
    /// published a ranking, or none ran. With replicas, a replica that does not hold the set's scoring lease reports the
    /// holder's last failure, read from the database with the set's watermark.
    /// </summary>
    public ScoringFailure? LastFailure(StoredEmbeddingSet set)
    {
        ArgumentNullException.ThrowIfNull(set);
        return _states.TryGetValue(set.Key, out var state) ? state.Coverage.LastFailure : null;
    }

    // With replicas: the failure goes into the set's lease row, so the others report it and end their waits (best effort:
    // when the database is what failed, they learn nothing new, and their waits run to their timeouts as before).
    private async Task ShareFailureAsync(SetScoringState state, ScoringLease lease, ScoringFailure failure, CancellationToken cancellationToken)
    {
        try
        {
            await _coordination.RecordFailureAsync(lease, failure, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
#pragma warning disable CA1031 // Telling the others is best effort; the pass is retried either way.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            ScoringLog.FailureNotShared(_logger, ex, state.Set.SetId);
        }
    }

    // A replica that does not score the set takes the holder's failure from the watermark, and wakes the requests
    // waiting for the ranking the failed pass would have published (they answer at once, with the failure).
    private static void AdoptFailure(SetScoringState state, ScoringFailure? failure)
    {
        if (failure is null || state.Coverage.LastFailure is { } known && known.FailedAt == failure.FailedAt && known.ConsecutiveFailures == failure.ConsecutiveFailures)
        {
            return;
        }

        state.Coverage.Failed(failure);
        state.Coverage.PassEnded(state.Coverage.CoveredThrough, succeeded: false);
    }

    // Called where a pass fails (not for a lost lease or a stop), before its PassEnded wakes the requests waiting for it.
    private void NoteFailure(SetScoringState state, Exception exception, long storedAtStart, long deletesAtStart) =>
        state.Coverage.Failed(ScoringFailure.Of(exception, state.Coverage.LastFailure, _time.GetUtcNow(), storedAtStart, deletesAtStart));
}
