using Chroma.Server.Storage;

namespace Chroma.Server.Recommendations.Scheduling;

// What clients are told about failed passes: the last failure of each set scored here, until a pass publishes a ranking.
internal sealed partial class ScoringScheduler
{
    /// <summary>
    /// Why the last scoring pass of <paramref name="set"/> on this replica failed, or null when the set's last pass here
    /// published a ranking, or none ran. A replica that does not hold the set's scoring lease runs no pass, so it
    /// reports none of the holder's failures.
    /// </summary>
    public ScoringFailure? LastFailure(StoredEmbeddingSet set)
    {
        ArgumentNullException.ThrowIfNull(set);
        return _states.TryGetValue(set.Key, out var state) ? state.Coverage.LastFailure : null;
    }

    // Called where a pass fails (not for a lost lease or a stop), before its PassEnded wakes the requests waiting for it.
    private void NoteFailure(SetScoringState state, Exception exception, long storedAtStart, long deletesAtStart) =>
        state.Coverage.Failed(ScoringFailure.Of(exception, state.Coverage.LastFailure, _time.GetUtcNow(), storedAtStart, deletesAtStart));
}
