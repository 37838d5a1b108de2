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

    /// <summary>
    /// Null when <paramref name="batch"/> may be stored, else the first problem. When records are invalid, every
    /// record is checked and the error's <see cref="ValidationError.RecordErrors"/> lists each offending one
    /// (at most one error per record, so never more than the batch's records), in index order: a record that
    /// could not be decoded (<see cref="LogBatch.RecordDecodeErrors"/>), one outside the limits, one
    /// <paramref name="store"/> refuses, and one repeating the id of an earlier valid record.
    /// </summary>
    public static ValidationError? Validate(LogBatch batch, LimitsOptions limits, IStoreRecordCheck? store = null)
    {
        if (ValidateBatch(batch, limits) is { } batchError)
        {
            return batchError;
        }

        var recordErrors = ValidateRecords(batch, limits, store);
        return recordErrors is null ? null : recordErrors[0] with { RecordErrors = recordErrors };
    }

    private static ValidationError? ValidateBatch(LogBatch batch, LimitsOptions limits)
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
            return ValidationError.Invalid($"records: batch has {records.Count} records, limit {limits.MaxBatchRecords}") with { MaxBatchRecords = limits.MaxBatchRecords };
        }

        return null;
    }

    // Null when every record is valid, else one error per offending record. Only valid records claim their id, so
    // once the listed records are dropped the rest passes validation (ids unique): one re-send is enough.
    private static List<ValidationError>? ValidateRecords(LogBatch batch, LimitsOptions limits, IStoreRecordCheck? store)
    {
        var records = batch.Records;
        var undecodable = batch.RecordDecodeErrors;
        List<ValidationError>? errors = null;
        var seen = new Dictionary<string, int>(records.Count, StringComparer.OrdinalIgnoreCase);
        for (var i = 0; i < records.Count; i++)
        {
            if (undecodable is not null && undecodable.TryGetValue(i, out var decodeError))
            {
                (errors ??= []).Add(ValidationError.Invalid(decodeError, i));
            }
            else if ((RecordValidator.Validate(records[i], i, batch.Set.Dimension, limits) ?? store?.Check(records[i], i)) is { } recordError
                && !(store is not null && OnlyANewerRuleRefuses(records[i], i, batch.Set.Dimension, limits) && store.IsStoredUnchanged(records[i])))
            {
                (errors ??= []).Add(recordError);
            }
            else if (!seen.TryAdd(records[i].Id, i))
            {
                (errors ??= []).Add(ValidationError.Invalid(
                    $"records[{i}].id: {records[i].Id} repeats records[{seen[records[i].Id]}].id in the same batch", i));
            }
        }

        return errors;
    }

    // A record refused only for its label by the class-name rule (December 7): records an earlier server stored with
    // such a label pass when re-sent unchanged, and the store counts them as the duplicates they are (probe T's T8).
    private static bool OnlyANewerRuleRefuses(Record record, int index, int dimension, LimitsOptions limits)
    {
        if (record.Label.Length == 0 || ClassNameRule.IsValid(record.Label))
        {
            return false;
        }

        var withoutLabel = record.Clone();
        withoutLabel.Label = string.Empty;
        return RecordValidator.Validate(withoutLabel, index, dimension, limits) is null;
    }
}
