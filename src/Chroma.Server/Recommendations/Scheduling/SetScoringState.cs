using System.Collections.Concurrent;
using Chroma.Server.Storage;

namespace Chroma.Server.Recommendations.Scheduling;

/// <summary>
/// The worker's memory of one set: its fitted model, the scored records and the highest sequence
/// scored. Only the scoring worker mutates it; queries read <see cref="Published"/>, an immutable
/// snapshot replaced after each step of a pass.
/// </summary>
/// <remarks>
/// While a refit rescores the set (<see cref="BeginRefit"/> to <see cref="EndRefit"/>), the
/// ranking published before it stays published, marked stale, and the new scores are only
/// published once the pass has scored every record: a ranking never shrinks to the records rescored
/// so far, and never disappears.
/// </remarks>
internal sealed class SetScoringState
{
    private readonly ConcurrentQueue<long> _deleted = new();
    private SetScores _published = SetScores.NotYetScored;
    private long _trainingChanges;
    private IReadOnlyList<ScoredEntry>? _staleEntries;
    private string? _staleVersion;
    private long _staleComputedUnixMs;
    private bool _awaitingRestore;
    private long _ownDeletes;

    /// <summary>Creates the state of <paramref name="set"/>.</summary>
    public SetScoringState(StoredEmbeddingSet set) => Set = set;

    /// <summary>Gets the set.</summary>
    public StoredEmbeddingSet Set { get; }

    /// <summary>Gets how far the published scores reach (for requests that wait for a fresh ranking).</summary>
    public SetCoverage Coverage { get; } = new();

    /// <summary>
    /// Gets the last published scores, marked stale when training records were stored after the
    /// pass that published them read the training data.
    /// </summary>
    public SetScores Published
    {
        get
        {
            var published = Volatile.Read(ref _published);
            return !published.Stale && published.TrainingVersion is not null && TrainingChanges > published.TrainingChangesSeen
                ? published with { Stale = true }
                : published;
        }
    }

    /// <summary>
    /// Gets whether the published snapshot already shows <see cref="Entries"/> as they are: published, under this
    /// training version and these training changes, not stale and without a training problem. Valid only while no
    /// entry changed since the last <see cref="Publish(long, string?)"/> (the pass knows; this does not track entries).
    /// </summary>
    public bool PublishedIsCurrent
    {
        get
        {
            var published = Volatile.Read(ref _published);
            return published.Revision > 0 && !published.Stale && _staleEntries is null && published.TrainingProblem is null
                && published.TrainingChangesSeen == TrainingChangesSeen
                && string.Equals(published.TrainingVersion, TrainingVersion, StringComparison.Ordinal);
        }
    }

    /// <summary>Gets how many committed batches brought training records (grows only; cheap to read).</summary>
    public long TrainingChanges => Interlocked.Read(ref _trainingChanges);

    /// <summary>Gets or sets whether the stored scores were read back after a start.</summary>
    public bool Restored { get; set; }

    /// <summary>Gets or sets a value indicating whether records with class probabilities the engine cannot use were logged (event 333, once per set).</summary>
    public bool UnusableProbabilitiesLogged { get; set; }

    /// <summary>Gets or sets whether the set existed at start and its stored scores are not read back yet (queries see an empty, stale ranking).</summary>
    public bool AwaitingRestore
    {
        get => Volatile.Read(ref _awaitingRestore);
        set => Volatile.Write(ref _awaitingRestore, value);
    }

    /// <summary>Gets or sets the fitted model, or null until the first pass that needs one.</summary>
    public RecommendationModel? Model { get; set; }

    /// <summary>
    /// Gets or sets the production rows of the last refit of the production-shift classifier that was tried while the
    /// signal was left out and left it out again (that classifier was not kept), or 0: the next try waits for growth
    /// beyond it (<see cref="ProductionShiftFitter"/>).
    /// </summary>
    public long ProductionShiftTriedAt { get; set; }

    /// <summary>
    /// Gets or sets the highest sequence a try's check of the rows stored since the last fit has read, or 0: the next
    /// check reads only the rows after it (<see cref="ProductionShiftFitter"/>).
    /// </summary>
    public long ProductionShiftCheckedThrough { get; set; }

    /// <summary>Gets or sets the training data the model was fitted on (the reference side of drift).</summary>
    public TrainingData? Training { get; set; }

    /// <summary>Gets or sets the training version of <see cref="Entries"/>, or null when nothing is scored.</summary>
    public string? TrainingVersion { get; set; }

    /// <summary>Gets the scored records by sequence.</summary>
    public Dictionary<long, ScoredEntry> Entries { get; } = [];

    /// <summary>Gets or sets the highest sequence scored: the next pass reads only records above it.</summary>
    public long MaxScoredSequence { get; set; }

    /// <summary>Gets or sets the training changes the running pass has seen (read before the training fingerprint).</summary>
    public long TrainingChangesSeen { get; set; }

    /// <summary>Gets or sets the scoring lease the running pass writes under (its generation fences the writes), or null.</summary>
    public ScoringLease? Lease { get; set; }

    /// <summary>Gets or sets the generation of the lease this replica last held for the set (0: none), so a takeover reads the stored state first.</summary>
    public long LeaseGeneration { get; set; }

    /// <summary>Gets or sets the stored-ranking revision these entries match (-1: unknown, read it again).</summary>
    public long LoadedRevision { get; set; } = -1;

    /// <summary>Gets or sets the shared database's figures of the set at the last poll, or null before the first.</summary>
    public SetWatermark? Watermark { get; set; }

    /// <summary>
    /// Gets or sets, with replicas on one database, the set's change stamp through which every delete is applied to the
    /// entries or queued for the next pass (-1: unknown, the stored ranking is read again first).
    /// </summary>
    public long DeletesAppliedThroughStamp { get; set; } = -1;

    /// <summary>
    /// Gets or sets, on a replica that serves what another replica's passes stored, the score stamp through which
    /// <see cref="Entries"/> hold the stored scores (<see cref="IScoreChangeReader"/>), so its next read takes only the
    /// rows written since; -1: unknown (this replica scored the set itself, or nothing was read), the next read is whole.
    /// </summary>
    public long FollowedStamp { get; set; } = -1;

    /// <summary>Gets or sets, with <see cref="FollowedStamp"/>, the latest time a score read into <see cref="Entries"/> was stored.</summary>
    public long FollowedScoredUnixMs { get; set; }

    /// <summary>Gets whether a refit is rescoring the set while the previous ranking is served stale.</summary>
    public bool Refitting => _staleEntries is not null;

    /// <summary>Notes a committed batch with training records (called inside the store's commit; cheap).</summary>
    public void OnTrainingChanged() => Interlocked.Increment(ref _trainingChanges);

    /// <summary>Notes records deleted from the store (called inside the store's commit; cheap).</summary>
    public void OnDeleted(IReadOnlyList<long> sequences)
    {
        Interlocked.Add(ref _ownDeletes, sequences.Count);
        foreach (var sequence in sequences)
        {
            _deleted.Enqueue(sequence);
        }
    }

    /// <summary>Queues records deleted through any replica (read from the shared database) for the next <see cref="ApplyDeletes"/>.</summary>
    public void QueueDeleted(IReadOnlyList<long> sequences)
    {
        foreach (var sequence in sequences)
        {
            _deleted.Enqueue(sequence);
        }
    }

    /// <summary>Returns how many records this replica deleted since the last call (told apart from deletes made elsewhere).</summary>
    public long TakeOwnDeletes() => Interlocked.Exchange(ref _ownDeletes, 0);

    /// <summary>Forgets everything scored (before the stored ranking is read again); the model is kept.</summary>
    public void Reset()
    {
        EndRefit();
        while (_deleted.TryDequeue(out _))
        {
        }

        Entries.Clear();
        MaxScoredSequence = 0;
        TrainingVersion = null;
        Restored = false;
        FollowedStamp = -1;
        FollowedScoredUnixMs = 0;
    }

    /// <summary>Drops the entries of records deleted since the last call; returns how many were dropped.</summary>
    public int ApplyDeletes()
    {
        var dropped = 0;
        while (_deleted.TryDequeue(out var sequence))
        {
            dropped += Entries.Remove(sequence) ? 1 : 0;
        }

        return dropped;
    }

    /// <summary>
    /// Starts rescoring under <paramref name="trainingVersion"/>: a ranking published now stays
    /// served (stale) until <see cref="EndRefit"/>; <see cref="Entries"/> starts empty. Without a
    /// ranking yet, the first pass publishes its chunks as they come, as before.
    /// </summary>
    public void BeginRefit(string trainingVersion)
    {
        var current = Volatile.Read(ref _published);
        if (_staleEntries is null && current.TrainingVersion is not null && current.Entries.Count > 0)
        {
            _staleEntries = current.Entries;
            _staleVersion = current.TrainingVersion;
            _staleComputedUnixMs = current.ComputedUnixMs;
        }

        Entries.Clear();
        MaxScoredSequence = 0;
        TrainingVersion = trainingVersion;
    }

    /// <summary>
    /// Serves <paramref name="entries"/> (scored under <paramref name="trainingVersion"/>, older than the
    /// current training data) as the stale ranking until a refit completes; used after a restart.
    /// </summary>
    public void ServeStale(IReadOnlyList<ScoredEntry> entries, string trainingVersion, long computedUnixMs)
    {
        _staleEntries = entries;
        _staleVersion = trainingVersion;
        _staleComputedUnixMs = computedUnixMs;
        Publish(computedUnixMs, null);
    }

    /// <summary>
    /// Reports the published snapshot as computed at <paramref name="computedUnixMs"/> (the time the replica that scored
    /// it gave it; ignored when 0), same revision and entries, so cached rankings stay valid.
    /// </summary>
    public void StampComputed(long computedUnixMs)
    {
        var current = Volatile.Read(ref _published);
        if (computedUnixMs > 0 && current.Revision > 0 && current.ComputedUnixMs != computedUnixMs)
        {
            Volatile.Write(ref _published, current with { ComputedUnixMs = computedUnixMs });
        }
    }

    /// <summary>Ends a refit: the next <see cref="Publish(long, string?)"/> serves <see cref="Entries"/> again.</summary>
    public void EndRefit()
    {
        _staleEntries = null;
        _staleVersion = null;
    }

    /// <summary>
    /// Publishes the current entries for queries, computed at <paramref name="computedUnixMs"/> (the
    /// stale ones, with their own time, while a refit runs).
    /// </summary>
    public void Publish(long computedUnixMs, string? trainingProblem) => Publish(computedUnixMs, trainingProblem, null);

    /// <summary>
    /// As <see cref="Publish(long, string?)"/>, with <paramref name="inSequenceOrder"/> the caller's copy of
    /// <see cref="Entries"/> from <see cref="EntriesInSequenceOrder"/> (not copied, nor sorted, again).
    /// </summary>
    public void Publish(long computedUnixMs, string? trainingProblem, ScoredEntry[]? inSequenceOrder)
    {
        var current = Volatile.Read(ref _published);
        var revision = current.Revision + 1;
        SetScores next;
        if (_staleEntries is { } stale)
        {
            if (ReferenceEquals(current.Entries, stale) && current.Stale && current.TrainingProblem == trainingProblem)
            {
                // Still the same stale ranking: same revision, so cached rankings stay valid.
                return;
            }

            next = new SetScores(stale, _staleVersion, _staleComputedUnixMs, revision, trainingProblem, Stale: true, TrainingChangesSeen);
        }
        else
        {
            next = new SetScores(inSequenceOrder ?? EntriesInSequenceOrder(), TrainingVersion, computedUnixMs, revision, trainingProblem, Stale: false, TrainingChangesSeen);
        }

        Volatile.Write(ref _published, next);
    }

    /// <summary>Gets a copy of <see cref="Entries"/> in sequence order.</summary>
    public ScoredEntry[] EntriesInSequenceOrder()
    {
        var entries = Entries.Values.ToArray();
        if (!InSequenceOrder(entries))
        {
            // Passes add records in sequence order, so this is rare (after deletions); a sort of a million
            // entries on every published chunk would cost a pass seconds.
            Array.Sort(entries, static (a, b) => a.Sequence.CompareTo(b.Sequence));
        }

        return entries;
    }

    private static bool InSequenceOrder(ScoredEntry[] entries)
    {
        for (var i = 1; i < entries.Length; i++)
        {
            if (entries[i].Sequence < entries[i - 1].Sequence)
            {
                return false;
            }
        }

        return true;
    }
}
