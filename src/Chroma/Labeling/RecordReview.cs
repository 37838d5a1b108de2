namespace Chroma;

/// <summary>What reviewers did with one record: its review state, the label they gave and its promotion to training.</summary>
public sealed class RecordReview
{
    internal RecordReview(Protocol.V1.RecordReview review)
    {
        State = (ReviewState)(int)review.State;
        ReviewedBy = NullIfEmpty(review.ReviewedBy);
        ReviewedAt = Time(review.ReviewedUnixMs);
        Label = NullIfEmpty(review.Label);
        LabeledBy = NullIfEmpty(review.LabeledBy);
        Note = NullIfEmpty(review.Note);
        LabeledAt = Time(review.LabeledUnixMs);
        PromotedRecordId = NullIfEmpty(review.PromotedRecordId);
        PromotedBy = NullIfEmpty(review.PromotedBy);
        PromotedAt = Time(review.PromotedUnixMs);
    }

    /// <summary>Gets the review state.</summary>
    public ReviewState State { get; }

    /// <summary>Gets who set the state, or <see langword="null"/>.</summary>
    public string? ReviewedBy { get; }

    /// <summary>Gets when the state was set, or <see langword="null"/>.</summary>
    public DateTimeOffset? ReviewedAt { get; }

    /// <summary>Gets the label a reviewer recorded, or <see langword="null"/>.</summary>
    public string? Label { get; }

    /// <summary>Gets who recorded the label, or <see langword="null"/>.</summary>
    public string? LabeledBy { get; }

    /// <summary>Gets the reviewer's note, or <see langword="null"/>.</summary>
    public string? Note { get; }

    /// <summary>Gets when the label was recorded, or <see langword="null"/>.</summary>
    public DateTimeOffset? LabeledAt { get; }

    /// <summary>Gets the id of the training record the label was promoted to, or <see langword="null"/> before a promotion.</summary>
    public string? PromotedRecordId { get; }

    /// <summary>Gets who promoted the label, or <see langword="null"/>.</summary>
    public string? PromotedBy { get; }

    /// <summary>Gets when the label was promoted, or <see langword="null"/>.</summary>
    public DateTimeOffset? PromotedAt { get; }

    private static string? NullIfEmpty(string value) => value.Length == 0 ? null : value;

    private static DateTimeOffset? Time(long unixMs) => unixMs == 0 ? null : DateTimeOffset.FromUnixTimeMilliseconds(unixMs);
}
