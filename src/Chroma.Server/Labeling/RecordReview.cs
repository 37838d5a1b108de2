namespace Chroma.Server.Labeling;

/// <summary>What reviewers did with one record (one row of <c>record_reviews</c>).</summary>
internal sealed record RecordReview
{
    /// <summary>Gets the record's store sequence.</summary>
    public required long Sequence { get; init; }

    /// <summary>Gets the record id.</summary>
    public required string RecordId { get; init; }

    /// <summary>Gets the review state.</summary>
    public ReviewState State { get; init; }

    /// <summary>Gets who set the state, or null.</summary>
    public string? ReviewedBy { get; init; }

    /// <summary>Gets when the state was set (Unix ms; 0 = never).</summary>
    public long ReviewedUnixMs { get; init; }

    /// <summary>Gets the label a reviewer recorded, or null.</summary>
    public string? Label { get; init; }

    /// <summary>Gets who recorded the label, or null.</summary>
    public string? LabeledBy { get; init; }

    /// <summary>Gets the reviewer's note, or null.</summary>
    public string? Note { get; init; }

    /// <summary>Gets when the label was recorded (Unix ms; 0 = never).</summary>
    public long LabeledUnixMs { get; init; }

    /// <summary>Gets the id of the training copy made by the last promotion, or null.</summary>
    public string? PromotedRecordId { get; init; }

    /// <summary>Gets the label the training copy carries (differs from <see cref="Label"/> after a relabel), or null.</summary>
    public string? PromotedLabel { get; init; }

    /// <summary>Gets who promoted, or null.</summary>
    public string? PromotedBy { get; init; }

    /// <summary>Gets when the label was promoted (Unix ms; 0 = never).</summary>
    public long PromotedUnixMs { get; init; }

    /// <summary>Gets whether the current label is already in training.</summary>
    public bool LabelPromoted => Label is not null && string.Equals(Label, PromotedLabel, StringComparison.Ordinal) && PromotedRecordId is not null;
}

/// <summary>One audit event.</summary>
/// <param name="Event">Increasing event number.</param>
/// <param name="RecordId">The record.</param>
/// <param name="Action"><c>label</c>, <c>review</c>, <c>dismiss</c>, <c>reopen</c> or <c>promote</c>.</param>
/// <param name="Actor">Who.</param>
/// <param name="UnixMs">When.</param>
/// <param name="Detail">The label, or the training record id of a promotion; null otherwise.</param>
internal sealed record ReviewEvent(long Event, string RecordId, string Action, string Actor, long UnixMs, string? Detail);
