using Chroma.Protocol.V1;
using Chroma.Server.Indexing;
using Chroma.Server.Storage;
using Chroma.Server.Storage.Internal;
using Chroma.Server.Validation;
using Google.Protobuf;

namespace Chroma.Server.Services.Internal;

/// <summary>
/// What the store refuses of the records of one batch, asked before the batch is stored so that a rejection lists
/// these records with the batch's other invalid ones: an all-zero embedding when the set is cosine, and text the
/// provider cannot hold. The set's metric is looked up only when a record has an all-zero embedding, once per batch.
/// </summary>
internal sealed class BatchStoreCheck(IRecordStore store, EmbeddingSetDescriptor set) : IStoreRecordCheck
{
    private bool? _cosine;

    /// <inheritdoc />
    public ValidationError? Check(Record record, int index)
    {
        if (!UnitVector.HasDirection(UnsafeCollectionOperations.AsSpan(record.Embedding)) && IsCosine())
        {
            return StoreOutcomeStatus.ToValidationError(IngestRejections.ZeroVectorUnderCosine(SetDescriptorValidator.SetId(set), index));
        }

        return store.CheckStorable(record, index) is { } rejection ? StoreOutcomeStatus.ToValidationError(rejection) : null;
    }

    /// <inheritdoc />
    public bool IsStoredUnchanged(Record record) =>
        store.FindSet(SetDescriptorValidator.SetId(set)) is { } stored
        && store.HoldsUnchanged(stored, PreparedRecord.From(record, RecordIdFormat.Normalize(record.Id)));

    // The stored set's metric; a new set gets the batch's. A batch naming another metric than a stored set's is
    // refused as a whole by the store (MetricMismatch), so the stored metric is the one that decides.
    private bool IsCosine() =>
        _cosine ??= (store.FindSet(SetDescriptorValidator.SetId(set))?.Metric ?? SetMetrics.ForNewSet(set.Metric)) == DistanceMetric.Cosine;
}
