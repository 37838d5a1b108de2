namespace Chroma.Server.Storage;

/// <summary>
/// What server replicas sharing one database agree on through it: which replica scores a set (a lease per set with an
/// expiry and a fencing generation), how far the stored ranking of each set reaches, and which replica applies the
/// retention rules. On SQLite (one process owns the file) every lease is granted at once and nothing is polled; on
/// PostgreSQL the rows live in <c>scoring_leases</c> and <c>retention_runs</c>.
/// </summary>
internal interface IReplicaCoordination
{
    /// <summary>Gets whether other processes may write the same database (then replicas poll <see cref="ReadWatermarks"/>).</summary>
    bool Shared { get; }

    /// <summary>
    /// Takes (or renews, when <paramref name="holder"/> holds it) the scoring lease of <paramref name="set"/> for
    /// <paramref name="duration"/>; null while another holder's lease has not expired. Taking over from another holder
    /// (or after a restart) raises the generation, which fences off every write of the previous holder.
    /// </summary>
    Task<ScoringLease?> TryAcquireAsync(StoredEmbeddingSet set, string holder, TimeSpan duration, CancellationToken cancellationToken = default);

    /// <summary>Extends <paramref name="lease"/> by <paramref name="duration"/> from now; false when it was taken over meanwhile.</summary>
    Task<bool> RenewAsync(ScoringLease lease, TimeSpan duration, CancellationToken cancellationToken = default);

    /// <summary>Lets the lease expire now (a stopping server), so another replica takes over at once.</summary>
    Task ReleaseAsync(ScoringLease lease, CancellationToken cancellationToken = default);

    /// <summary>
    /// Records that a pass under <paramref name="lease"/> ended and its stored scores cover every record up to
    /// <paramref name="coveredThrough"/> and have dropped the first <paramref name="deletesApplied"/> records deleted
    /// from the set (<see cref="SetWatermark.DeletedCount"/>): the set's scores revision goes up so other replicas read
    /// the stored ranking again. <paramref name="computedUnixMs"/> is when the holder computed it, which every replica then
    /// reports for it (<see cref="SetWatermark.ComputedUnixMs"/>). Returns the new revision, or null when the lease was
    /// taken over (nothing is written).
    /// </summary>
    Task<long?> PublishPassAsync(ScoringLease lease, long coveredThrough, long deletesApplied, long computedUnixMs, CancellationToken cancellationToken = default);

    /// <summary>
    /// Records that a pass under <paramref name="lease"/> failed, so every replica reports it (<see cref="SetWatermark.Failure"/>)
    /// and requests waiting there for the ranking it would have published end at once; the next published pass clears
    /// it. Nothing is written when the lease was taken over.
    /// </summary>
    Task RecordFailureAsync(ScoringLease lease, Recommendations.Scheduling.ScoringFailure failure, CancellationToken cancellationToken = default);

    /// <summary>
    /// Tells the replica that scores <paramref name="set"/> that a request waits for a ranking covering every record
    /// through <paramref name="throughSequence"/> and the first <paramref name="throughDeletes"/> of the set's deletes,
    /// so it starts its pass at once (PostgreSQL: a <c>NOTIFY</c>; best effort, nothing is stored). Not
    /// <see cref="Shared"/>: nothing.
    /// </summary>
    Task RequestPassAsync(StoredEmbeddingSet set, long throughSequence, long throughDeletes, CancellationToken cancellationToken = default);

    /// <summary>Every set's latest sequence, delete count, scores revision and lease (one cheap query; empty when not <see cref="Shared"/>).</summary>
    IReadOnlyList<SetWatermark> ReadWatermarks();

    /// <summary>
    /// The records of <paramref name="set"/> deleted after the change stamp <paramref name="afterStamp"/>, read in one
    /// snapshot with the set's latest change stamp and delete count, which then count exactly the deletes through that
    /// stamp (a delete takes its stamp from the set's row, locked to its commit). <paramref name="afterStamp"/> =
    /// <see cref="long.MaxValue"/> reads the stamp and the count alone. Not <see cref="Shared"/>: nothing (0, 0, none).
    /// </summary>
    Task<SetDeletes> ReadDeletesAsync(StoredEmbeddingSet set, long afterStamp, CancellationToken cancellationToken = default);

    /// <summary>
    /// What had been acknowledged in <paramref name="set"/> through any replica, read in one snapshot (one indexed
    /// query): the highest sequence given to a record of the set (records only: <see cref="SetWatermark.LastSequence"/>
    /// also counts the change stamps of deletes) and the set's delete count. Not <see cref="Shared"/>: (0, 0).
    /// </summary>
    Task<SetAcknowledged> ReadAcknowledgedAsync(StoredEmbeddingSet set, CancellationToken cancellationToken = default);

    /// <summary>
    /// Enters the retention run if no other replica is in it (PostgreSQL: an advisory lock held on one connection);
    /// null when one is. Disposing the result leaves it.
    /// </summary>
    Task<IAsyncDisposable?> TryEnterRetentionAsync(CancellationToken cancellationToken = default);

    /// <summary>Stores the outcome of one retention rule on one set (the last one per set and dataset is kept).</summary>
    Task SaveRetentionRunAsync(RetentionRun run, CancellationToken cancellationToken = default);

    /// <summary>The last retention run of every set and dataset.</summary>
    IReadOnlyList<RetentionRun> ReadRetentionRuns();
}

/// <summary>A held scoring lease.</summary>
/// <param name="SetKey">The set's key.</param>
/// <param name="Holder">The replica holding it.</param>
/// <param name="Generation">The fencing token: grows by one whenever another holder takes the set over.</param>
/// <param name="ExpiresUnixMs">When it expires unless renewed.</param>
internal sealed record ScoringLease(long SetKey, string Holder, long Generation, long ExpiresUnixMs);

/// <summary>One set as every replica sees it in the shared database.</summary>
/// <param name="SetKey">The set's key.</param>
/// <param name="SetId">The set's id.</param>
/// <param name="LastSequence">The highest sequence given to a record of the set.</param>
/// <param name="DeletedCount">How many of the set's records were ever deleted (grows with every delete).</param>
/// <param name="ScoresRevision">Grows with every ended scoring pass (0: none yet).</param>
/// <param name="CoveredThrough">The highest sequence the stored ranking covers (-1: none yet).</param>
/// <param name="Holder">The lease holder, or null when nobody ever held it.</param>
/// <param name="ExpiresUnixMs">When the lease expires (0 when none).</param>
/// <param name="Generation">The lease generation (0 when none).</param>
/// <param name="DeletesApplied">How many of <paramref name="DeletedCount"/> the stored ranking has dropped (0: none yet).</param>
internal sealed record SetWatermark(
    long SetKey, string SetId, long LastSequence, long DeletedCount, long ScoresRevision, long CoveredThrough, string? Holder, long ExpiresUnixMs, long Generation,
    long DeletesApplied)
{
    /// <summary>Gets when the holder computed the ranking it last published (0 when none, or from a server before schema 9).</summary>
    public long ComputedUnixMs { get; init; }

    /// <summary>Gets why the holder's last pass of the set failed, or null when its last pass published a ranking.</summary>
    public Recommendations.Scheduling.ScoringFailure? Failure { get; init; }
}

/// <summary>Deletes of one set read in one snapshot (<see cref="IReplicaCoordination.ReadDeletesAsync"/>).</summary>
/// <param name="ThroughStamp">The set's latest change stamp (<c>last_sequence</c>) in the snapshot.</param>
/// <param name="DeletedCount">How many of the set's records were deleted through that stamp.</param>
/// <param name="Sequences">The sequences of the records deleted after the stamp asked for, through <paramref name="ThroughStamp"/>.</param>
internal sealed record SetDeletes(long ThroughStamp, long DeletedCount, IReadOnlyList<long> Sequences);

/// <summary>What one set holds through every replica (<see cref="IReplicaCoordination.ReadAcknowledgedAsync"/>).</summary>
/// <param name="LatestRecord">The highest sequence given to a record of the set (0 when it has none).</param>
/// <param name="DeletedCount">How many of the set's records were ever deleted.</param>
internal sealed record SetAcknowledged(long LatestRecord, long DeletedCount)
{
    /// <summary>Gets the revision of the set's ranking stored last by the replica that scores it (0 when none, or on one process).</summary>
    public long ScoresRevision { get; init; }
}

/// <summary>The outcome of a retention rule on one set and dataset.</summary>
/// <param name="SetKey">The set's key.</param>
/// <param name="Dataset">The dataset the rule covers.</param>
/// <param name="RanUnixMs">When the run ended.</param>
/// <param name="Deleted">Records it deleted.</param>
/// <param name="DeletedTotal">Records deleted by every run so far.</param>
internal sealed record RetentionRun(long SetKey, string Dataset, long RanUnixMs, long Deleted, long DeletedTotal);
