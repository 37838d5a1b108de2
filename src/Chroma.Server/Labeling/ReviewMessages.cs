using Chroma.Protocol.V1;

namespace Chroma.Server.Labeling;

/// <summary>Turns stored reviews into <c>chroma.v1.RecordReview</c> messages and attaches them to records.</summary>
internal static class ReviewMessages
{
    /// <summary>The message of <paramref name="review"/>.</summary>
    public static Protocol.V1.RecordReview ToMessage(RecordReview review)
    {
        ArgumentNullException.ThrowIfNull(review);
        return new Protocol.V1.RecordReview
        {
            State = (Protocol.V1.ReviewState)(int)review.State,
            ReviewedBy = review.ReviewedBy ?? string.Empty,
            ReviewedUnixMs = review.ReviewedUnixMs,
            Label = review.Label ?? string.Empty,
            LabeledBy = review.LabeledBy ?? string.Empty,
            Note = review.Note ?? string.Empty,
            LabeledUnixMs = review.LabeledUnixMs,
            PromotedRecordId = review.PromotedRecordId ?? string.Empty,
            PromotedBy = review.PromotedBy ?? string.Empty,
            PromotedUnixMs = review.PromotedUnixMs,
        };
    }

    /// <summary>Sets <c>review</c> on each record that has one (one store read for all of them).</summary>
    public static void Attach(LabelingService labeling, Storage.StoredEmbeddingSet set, IReadOnlyList<StoredRecord> records)
    {
        ArgumentNullException.ThrowIfNull(labeling);
        ArgumentNullException.ThrowIfNull(records);
        if (records.Count == 0)
        {
            return;
        }

        var reviews = labeling.Reviews(set, [.. records.Select(r => r.Sequence)]);
        foreach (var record in records)
        {
            if (reviews.TryGetValue(record.Sequence, out var review))
            {
                record.Review = ToMessage(review);
            }
        }
    }
}
