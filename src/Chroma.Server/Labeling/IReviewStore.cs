namespace Chroma.Server.Labeling;

/// <summary>
/// Durable review states, labels, promotions and their audit trail, per record sequence of a set.
/// Every write appends audit events in the same transaction.
/// </summary>
internal interface IReviewStore : IDisposable
{
    /// <summary>Records labels (each also marks its record reviewed); returns how many rows changed.</summary>
    Task<int> SaveLabelsAsync(long setKey, IReadOnlyList<LabelWrite> labels, string reviewer, long unixMs, CancellationToken cancellationToken = default);

    /// <summary>Sets the review state of records; returns how many rows changed.</summary>
    Task<int> SaveStateAsync(long setKey, IReadOnlyList<(long Sequence, string RecordId)> records, ReviewState state, string reviewer, long unixMs, CancellationToken cancellationToken = default);

    /// <summary>
    /// Notes that the labels of these records were copied to training, each as its training record, in one transaction
    /// (a promotion of 1,000 labels is one commit, and a crash leaves all of them marked or none). A row is marked only
    /// while its label is still the one copied and it still names the copy it named when this one was made
    /// (<see cref="PromotionWrite.Previous"/>), so of promotions of the same
    /// records running at once (on this server or another sharing the store) one marks each record; returns the
    /// sequences this call marked.
    /// </summary>
    Task<IReadOnlySet<long>> SavePromotionsAsync(long setKey, IReadOnlyList<PromotionWrite> promotions, string promotedBy, long unixMs, CancellationToken cancellationToken = default);

    /// <summary>
    /// Puts back the reviews records had before an action (Studio's undo): each row as it was, or none where there was
    /// none (so an undone label is gone, not only reopened); appends an <c>undo</c> event per record.
    /// </summary>
    Task RestoreAsync(long setKey, IReadOnlyList<ReviewSnapshot> previous, string actor, long unixMs, CancellationToken cancellationToken = default);

    /// <summary>The reviews of these sequences (records nobody reviewed are left out).</summary>
    IReadOnlyDictionary<long, RecordReview> Read(long setKey, IReadOnlyList<long> sequences);

    /// <summary>Sequences of the set's records that are reviewed or dismissed.</summary>
    IReadOnlySet<long> ReadReviewedSequences(long setKey);

    /// <summary>Up to <paramref name="limit"/> labeled records with a sequence above <paramref name="afterSequence"/>, in sequence order.</summary>
    IReadOnlyList<RecordReview> ReadLabeled(long setKey, long afterSequence, int limit);

    /// <summary>
    /// A count that grows with every review write to the set through any server sharing this store (0 where only this
    /// server writes it): the labeling service's cache of reviewed records is stale when it has moved.
    /// </summary>
    long Revision(long setKey);

    /// <summary>Up to <paramref name="limit"/> audit events after <paramref name="afterEvent"/>, oldest first; only <paramref name="recordId"/>'s when given.</summary>
    IReadOnlyList<ReviewEvent> ReadHistory(long setKey, string? recordId, long afterEvent, int limit);
}

/// <summary>One label to record.</summary>
/// <param name="Sequence">The record's store sequence.</param>
/// <param name="RecordId">The record id.</param>
/// <param name="Label">The label.</param>
/// <param name="Note">Optional note.</param>
internal sealed record LabelWrite(long Sequence, string RecordId, string Label, string? Note);

/// <summary>One record's promotion to write.</summary>
/// <param name="Sequence">The record's store sequence.</param>
/// <param name="TrainingRecordId">The id of its training copy.</param>
/// <param name="Label">The label the copy carries.</param>
/// <param name="Previous">
/// The training copy the review named when this copy was made (null: none): the row is marked only while it still names
/// it, so a promotion that read the review before another replaced that copy does not replace the other's in turn (which
/// left the other's copy in training, named by no review).
/// </param>
internal sealed record PromotionWrite(long Sequence, string TrainingRecordId, string Label, string? Previous);

/// <summary>A record's review before an action, to put back.</summary>
/// <param name="Sequence">The record's store sequence.</param>
/// <param name="RecordId">The record id.</param>
/// <param name="Review">Its review then, or null when nobody had reviewed it.</param>
internal sealed record ReviewSnapshot(long Sequence, string RecordId, RecordReview? Review);
