namespace Chroma.Server.Recommendations.Scheduling;

/// <summary>
/// How far one set's published ranking reaches, for requests that wait for a fresh one: the
/// highest sequence the store had acknowledged when the last finished pass started (that pass read
/// everything up to it), and a task that completes when the next pass ends. Deletes are counted apart (they take
/// no new record sequence): a pass applies every delete noted before it started. With replicas on one database the
/// deletes are counted as the database counts them (the set's <c>deleted_count</c>, deletes through every replica), and
/// <see cref="DeletesCovered"/> is in that count. A failed pass is kept (<see cref="LastFailure"/>) until one publishes a
/// ranking, so a request waiting for what the failed pass would have covered ends at once instead of at its deadline.
/// </summary>
internal sealed class SetCoverage
{
    private long _latestStored;
    private long _coveredThrough = -1;
    private long _deletesNoted;
    private long _deletesCovered;
    private ScoringFailure? _lastFailure;
    private TaskCompletionSource _nextPass = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Gets the highest sequence stored (committed and acknowledged), the last one stored before the start included.</summary>
    public long LatestStored => Volatile.Read(ref _latestStored);

    /// <summary>
    /// Gets the highest sequence the published ranking covers, or -1 before the first pass since the
    /// start ended (the first pass reads everything stored before the start, so then 0 or more covers it).
    /// </summary>
    public long CoveredThrough => Volatile.Read(ref _coveredThrough);

    /// <summary>Gets how many deletes (calls that tombstoned records of the set) were committed since the server started.</summary>
    public long DeletesNoted => Interlocked.Read(ref _deletesNoted);

    /// <summary>
    /// Gets how many deletes the published ranking has applied: of <see cref="DeletesNoted"/> on one process, of the
    /// set's shared delete count with replicas on one database.
    /// </summary>
    public long DeletesCovered => Interlocked.Read(ref _deletesCovered);

    /// <summary>Gets why the set's last pass failed, or null when it published a ranking (or none ran) since the last failure.</summary>
    public ScoringFailure? LastFailure => Volatile.Read(ref _lastFailure);

    /// <summary>
    /// Notes that a pass failed (before its <see cref="PassEnded"/>, so the requests it wakes see why); the failure lasts
    /// until a pass ends that published a ranking.
    /// </summary>
    public void Failed(ScoringFailure failure) => Volatile.Write(ref _lastFailure, failure);

    /// <summary>
    /// Whether the last pass failed and would have covered every record stored up to <paramref name="throughSequence"/>
    /// and the first <paramref name="throughDelete"/> deletes: a request waiting for those has nothing left to wait for
    /// until the set changes again (a later record or delete schedules the next pass, and would not be covered by this one).
    /// </summary>
    public bool FailedCovering(long throughSequence, long throughDelete) =>
        LastFailure is { } failure && failure.StoredAtStart >= throughSequence && failure.DeletesAtStart >= throughDelete;

    /// <summary>Notes a committed delete (called after the deleted sequences were queued for the next pass).</summary>
    public void Deleted() => Interlocked.Increment(ref _deletesNoted);

    /// <summary>Gets a task that completes when the pass after this call ends.</summary>
    public Task NextPass => Volatile.Read(ref _nextPass).Task;

    /// <summary>Notes stored sequences (called inside the store's commit: cheap).</summary>
    public void Stored(long highestSequence)
    {
        long seen;
        while ((seen = Volatile.Read(ref _latestStored)) < highestSequence)
        {
            if (Interlocked.CompareExchange(ref _latestStored, highestSequence, seen) == seen)
            {
                return;
            }
        }
    }

    /// <summary>
    /// Notes that a pass which started when <paramref name="storedAtStart"/> was the latest sequence and
    /// <paramref name="deletesAtStart"/> deletes were noted ended; one that <paramref name="succeeded"/> (published a ranking)
    /// clears <see cref="LastFailure"/>.
    /// </summary>
    public void PassEnded(long storedAtStart, bool succeeded, long deletesAtStart = 0)
    {
        if (succeeded)
        {
            Volatile.Write(ref _lastFailure, null);
            Raise(ref _deletesCovered, deletesAtStart);
            long seen;
            while ((seen = Volatile.Read(ref _coveredThrough)) < storedAtStart)
            {
                if (Interlocked.CompareExchange(ref _coveredThrough, storedAtStart, seen) == seen)
                {
                    break;
                }
            }
        }

        var ended = Interlocked.Exchange(ref _nextPass, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
        ended.TrySetResult();
    }

    private static void Raise(ref long field, long value)
    {
        long seen;
        while ((seen = Interlocked.Read(ref field)) < value)
        {
            if (Interlocked.CompareExchange(ref field, value, seen) == seen)
            {
                return;
            }
        }
    }
}
