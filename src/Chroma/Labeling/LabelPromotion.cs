namespace Chroma;

/// <summary>What <see cref="ChromaClient.PromoteLabelsAsync"/> did.</summary>
public sealed class LabelPromotion
{
    internal LabelPromotion(IReadOnlyDictionary<string, string> trainingRecordIds, long alreadyPromoted)
    {
        TrainingRecordIds = trainingRecordIds;
        AlreadyPromoted = alreadyPromoted;
    }

    /// <summary>Gets, per production record promoted by this call, the id of its new training record.</summary>
    public IReadOnlyDictionary<string, string> TrainingRecordIds { get; }

    /// <summary>Gets how many records already had their current label in training (nothing was done for them).</summary>
    public long AlreadyPromoted { get; }
}

/// <summary>One entry of a set's review audit trail.</summary>
/// <param name="RecordId">The record.</param>
/// <param name="Action"><c>label</c>, <c>review</c>, <c>dismiss</c>, <c>reopen</c> or <c>promote</c>.</param>
/// <param name="Actor">Who.</param>
/// <param name="Time">When.</param>
/// <param name="Detail">The label, or the training record id of a promotion; <see langword="null"/> otherwise.</param>
public sealed record ReviewEvent(string RecordId, string Action, string Actor, DateTimeOffset Time, string? Detail);
