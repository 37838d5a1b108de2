namespace Chroma.Server.Storage;

/// <summary>
/// What the recommendation engine reads and writes in the store: labelled training rows, records
/// still to score, per-record scores and the drift history. Scores are kept per record sequence
/// so a restarted server serves its last ranking at once and scores only what is new.
/// </summary>
internal interface IRecordScoreStore
{
    /// <summary>Count, highest and summed sequence of the set's live training records (index only, cheap).</summary>
    TrainingFingerprint ReadTrainingFingerprint(StoredEmbeddingSet set);

    /// <summary>
    /// The set's live, labelled training records in sequence order, with the fingerprint of the same snapshot; with
    /// <paramref name="includeUnlabelled"/> every live training record (an unlabelled one with the label "").
    /// </summary>
    TrainingRows ReadTraining(StoredEmbeddingSet set, bool includeUnlabelled = false);

    /// <summary>Up to <paramref name="limit"/> live records outside the training dataset with a sequence above <paramref name="afterSequence"/>, in sequence order.</summary>
    IReadOnlyList<ScorableRecord> ReadScorable(StoredEmbeddingSet set, long afterSequence, int limit);

    /// <summary>The embeddings of the <paramref name="count"/> most recent live production records.</summary>
    RecentProduction ReadRecentProduction(StoredEmbeddingSet set, int count);

    /// <summary>Every stored score of the set with the scored record's columns, in sequence order.</summary>
    IReadOnlyList<PersistedScore> ReadScores(StoredEmbeddingSet set);

    /// <summary>
    /// Visits every stored score of the set with the scored record's columns, in sequence order, one row at a time (a
    /// caller that keeps only what it makes of each row holds no list of them all); returns how many.
    /// </summary>
    int VisitScores(StoredEmbeddingSet set, Action<PersistedScore> visitor);

    /// <summary>
    /// Stores scores computed under <paramref name="trainingVersion"/>, skipping records deleted in
    /// the meantime; <paramref name="replaceExisting"/> first drops every score of the set (a refit).
    /// Returns how many were stored. With a <paramref name="lease"/>, the write commits only while that lease's
    /// generation is still the set's current one (checked in the same transaction), else nothing is written and
    /// <see cref="ScoringLeaseLostException"/> is thrown: a replica that lost the set cannot overwrite newer scores.
    /// </summary>
    Task<int> SaveScoresAsync(
        StoredEmbeddingSet set,
        string trainingVersion,
        IReadOnlyList<RecordScoreRow> rows,
        bool replaceExisting,
        ScoringLease? lease = null,
        CancellationToken cancellationToken = default);

    /// <summary>
    /// Saves a drift measurement as the set's newest and keeps only the newest <paramref name="keep"/>; fenced by
    /// <paramref name="lease"/> as <see cref="SaveScoresAsync"/> is. The points before the newest lie at least
    /// <paramref name="spacing"/> apart: while the newest was measured less than that after the one before it, the new
    /// measurement replaces it instead of being added (so a set scored every few seconds keeps a history of hours, and its
    /// newest point is still its latest measurement). <see cref="TimeSpan.Zero"/> keeps every measurement.
    /// </summary>
    Task SaveDriftAsync(
        StoredEmbeddingSet set, DriftPoint point, int keep, TimeSpan spacing = default, ScoringLease? lease = null, CancellationToken cancellationToken = default);

    /// <summary>The newest <paramref name="limit"/> drift measurements of the set, oldest first.</summary>
    IReadOnlyList<DriftPoint> ReadDriftHistory(StoredEmbeddingSet set, int limit);

    /// <summary>The sequences of the live records a selection matches.</summary>
    IReadOnlySet<long> SelectSequences(StoredEmbeddingSet set, RecordSelection selection);
}
