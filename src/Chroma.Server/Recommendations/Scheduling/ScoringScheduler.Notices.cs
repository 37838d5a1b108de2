using Chroma.Server.Storage;

namespace Chroma.Server.Recommendations.Scheduling;

/// <summary>
/// Wake-ups from the other replicas of one PostgreSQL database (<c>LISTEN</c>, through the server's change listener),
/// so the scoring follows them at once instead of at the next watermark poll:
/// <list type="bullet">
/// <item>a commit through any replica makes the holder of the set's lease mark it dirty, as its own commits do, so its
/// pass starts after <see cref="ScoringOptions.Debounce"/> instead of after its next poll;</item>
/// <item>a published pass makes every other replica poll at once, so it reads the new ranking (and answers the
/// requests that wait for it) without waiting for <see cref="ScoringOptions.ChangePollInterval"/> or
/// <see cref="WaitingPollInterval"/>;</item>
/// <item>a request that waits on a replica that does not score the set makes the holder's pass due at once
/// (<see cref="AskHolderAsync"/>).</item>
/// </list>
/// A notice can be lost (while the listener reconnects, after which it reports <see cref="OnChangesMissed"/>): the
/// polls stay as the fallback, with their intervals. Called on the listener's thread: these only mark and signal.
/// </summary>
internal sealed partial class ScoringScheduler : IStoreChangeSink, IScoringChangeSink
{
    /// <inheritdoc />
    public void OnCommitted(long setKey, long sequence)
    {
        // Only the holder scores; what it already knows of (its own commits, whatever a poll or a waiting request read)
        // was marked when it learned of it, and a change its ranking covers needs no pass.
        if (_coordination.Shared
            && _states.TryGetValue(setKey, out var state)
            && state.LeaseGeneration != 0
            && sequence > Math.Max(state.Coverage.LatestStored, state.Coverage.CoveredThrough))
        {
            MarkDirty(state.Set);
        }
    }

    /// <inheritdoc />
    public void OnChangesMissed() => PollSoon();

    /// <inheritdoc />
    public void OnRankingPublished(long setKey, long revision)
    {
        // A set nobody asked this replica about is read by the next poll, as before.
        if (_states.TryGetValue(setKey, out var state) && state.LeaseGeneration == 0 && revision > state.LoadedRevision)
        {
            PollSoon();
        }
    }

    /// <inheritdoc />
    public void OnPassWanted(long setKey, long throughSequence, long throughDeletes)
    {
        if (_coordination.Shared
            && _states.TryGetValue(setKey, out var state)
            && state.LeaseGeneration != 0
            && (state.Coverage.CoveredThrough < throughSequence || state.Coverage.DeletesCovered < throughDeletes)
            && !state.Coverage.FailedCovering(throughSequence, throughDeletes))
        {
            // (A pass that failed would have covered it: the request learns of the failure from the lease row; running
            // the same pass again now would fail again, as a wait on this replica does not retry it either.)
            Hurry(state.Set, behind: true);
        }
    }

    // A request waits on a replica that does not hold the set's lease: the holder would start its pass only after its
    // debounce (or, for records stored through this replica, after it hears of them), so it is asked to start now.
    // Best effort, once per wait: when the notice is lost, the polls still bring the ranking.
    private async Task AskHolderAsync(SetScoringState state, long throughSequence, long throughDeletes, CancellationToken cancellationToken)
    {
        try
        {
            await _coordination.RequestPassAsync(state.Set, throughSequence, throughDeletes, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // The wait ends with its token (NextPassAsync).
        }
#pragma warning disable CA1031 // The database may be down: the request keeps waiting on the polls.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            ScoringLog.PassRequestFailed(_logger, ex, state.Set.SetId);
        }
    }
}
