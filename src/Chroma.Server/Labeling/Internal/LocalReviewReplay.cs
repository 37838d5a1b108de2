namespace Chroma.Server.Labeling.Internal;

/// <summary>
/// The reviews of one set as the old local store's audit trail says they ended. The old <c>record_reviews</c> was keyed
/// by the sequence alone, while PostgreSQL numbers each set's records from 1: a label or state written for one set's
/// record updated the row of another set's record with the same sequence (keeping that row's set and record id), so a
/// row can hold another set's decision. Every write appended its event in the same transaction, with the right set,
/// sequence and record, so replaying the events in order gives each record's review; the row adds what events do not
/// hold (the label's note, the label a promotion copied) where it is still that record's.
/// </summary>
internal static class LocalReviewReplay
{
    /// <summary>
    /// The reviews of <paramref name="setKey"/>'s records, by sequence, from its events (in write order) and the rows;
    /// a row of the set with no event (none was ever written without one) is taken as it is.
    /// </summary>
    public static Dictionary<long, RecordReview> Rebuild(long setKey, IEnumerable<LocalReviewEvent> events, IReadOnlyDictionary<long, LocalReviewRow> rowsBySequence)
    {
        ArgumentNullException.ThrowIfNull(events);
        ArgumentNullException.ThrowIfNull(rowsBySequence);
        var reviews = new Dictionary<long, RecordReview>();
        foreach (var e in events)
        {
            var current = reviews.GetValueOrDefault(e.Sequence) ?? new RecordReview { Sequence = e.Sequence, RecordId = e.RecordId };
            reviews[e.Sequence] = e.Action switch
            {
                "label" => current with
                {
                    State = ReviewState.Reviewed, ReviewedBy = e.Actor, ReviewedUnixMs = e.AtMs,
                    Label = e.Detail, LabeledBy = e.Actor, LabeledUnixMs = e.AtMs, Note = null,
                },
                "review" => current with { State = ReviewState.Reviewed, ReviewedBy = e.Actor, ReviewedUnixMs = e.AtMs },
                "dismiss" => current with { State = ReviewState.Dismissed, ReviewedBy = e.Actor, ReviewedUnixMs = e.AtMs },
                "reopen" => current with { State = ReviewState.Unreviewed, ReviewedBy = e.Actor, ReviewedUnixMs = e.AtMs },
                "promote" => current with { PromotedRecordId = e.Detail, PromotedLabel = current.Label, PromotedBy = e.Actor, PromotedUnixMs = e.AtMs },
                _ => current,
            };
        }

        foreach (var (sequence, review) in reviews)
        {
            if (rowsBySequence.TryGetValue(sequence, out var row) && row.SetKey == setKey && row.Review.RecordId == review.RecordId)
            {
                var note = row.Review.Label == review.Label && row.Review.LabeledUnixMs == review.LabeledUnixMs ? row.Review.Note : review.Note;
                var promotedLabel = review.PromotedRecordId is not null && row.Review.PromotedRecordId == review.PromotedRecordId
                    ? row.Review.PromotedLabel
                    : review.PromotedLabel;
                reviews[sequence] = review with { Note = note, PromotedLabel = promotedLabel };
            }
        }

        foreach (var (sequence, row) in rowsBySequence)
        {
            if (row.SetKey == setKey && !reviews.ContainsKey(sequence))
            {
                reviews[sequence] = row.Review;
            }
        }

        return reviews;
    }
}
