using Chroma.Protocol.V1;
using Chroma.Server.Validation.Internal;

namespace Chroma.Server.Validation;

/// <summary>
/// Checks a whole <see cref="LogBatch"/> before anything is stored: batch id, set descriptor,
/// size, every record, and ids repeated inside the batch. Conflicts with stored records are the
/// store's concern (they need the database).
/// </summary>
internal static class BatchValidator
{
    /// <summary>The longest batch id (client-generated UUID text, echoed in the ack).</summary>
    public const int MaxBatchIdLength = 128;

    /// <summary>Null when <paramref name="batch"/> may be stored, else the first problem.</summary>
    public static ValidationError? Validate(LogBatch batch, LimitsOptions limits)
    {
        if (batch.BatchId.Length > MaxBatchIdLength)
        {
            return ValidationError.Invalid($"batch_id: is {batch.BatchId.Length} characters, limit {MaxBatchIdLength}");
        }

        if (Utf8Text.Check(batch.BatchId) is { } badBatchId)
        {
            return ValidationError.Invalid($"batch_id: {badBatchId}");
        }

        if (SetDescriptorValidator.Validate(batch.Set, limits.MaxDimension) is { } setError)
        {
            return setError;
        }

        var records = batch.Records;
        if (records.Count == 0)
        {
            return ValidationError.Invalid("records: batch is empty");
        }

        if (records.Count > limits.MaxBatchRecords)
        {
            return ValidationError.Invalid($"records: batch has {records.Count} records, limit {limits.MaxBatchRecords}");
        }

        var seen = new Dictionary<string, int>(records.Count, StringComparer.OrdinalIgnoreCase);
        for (var i = 0; i < records.Count; i++)
        {
            if (RecordValidator.Validate(records[i], i, batch.Set.Dimension, limits) is { } recordError)
            {
                return recordError;
            }

            if (!seen.TryAdd(records[i].Id, i))
            {
                return ValidationError.Invalid(
                    $"records[{i}].id: {records[i].Id} repeats records[{seen[records[i].Id]}].id in the same batch", i);
            }
        }

        return null;
    }
}
