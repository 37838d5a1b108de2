using Chroma.Protocol.V1;
using Chroma.Server.Validation.Internal;
using Google.Protobuf;

namespace Chroma.Server.Validation;

/// <summary>
/// Checks one record of a batch against the set's dimension and the server's limits. Runs once per ingested record:
/// a check that builds no text (<see cref="IsPlainlyValid"/>) passes the common record; only a record it does not pass
/// goes through the full check, which names the field and the problem.
/// </summary>
internal static class RecordValidator
{
    /// <summary>Null when record <paramref name="index"/> can be stored, else the first problem.</summary>
    public static ValidationError? Validate(Record record, int index, int dimension, LimitsOptions limits) =>
        IsPlainlyValid(record, dimension, limits) ? null : Describe(record, index, dimension, limits);

    /// <summary>
    /// True only for a record the full check accepts (never for one it refuses); false sends the record to the full
    /// check, which finds the problem or accepts it too. Allocates nothing.
    /// </summary>
    internal static bool IsPlainlyValid(Record record, int dimension, LimitsOptions limits)
    {
        var embedding = UnsafeCollectionOperations.AsSpan(record.Embedding);
        if (!RecordIdFormat.IsCanonical(record.Id)
            || !NameCharacters.IsValid(record.Dataset, DatasetNameValidator.MaxLength)
            || embedding.Length != dimension || dimension == 0
            || FiniteValues.IndexOfOutOfRange(embedding) >= 0
            || !IsPlainText(record.InputUri, limits.MaxInputUriLength)
            || !IsPlainText(record.Label, limits.MaxMetadataValueLength)
            || (record.Label.Length > 0 && !ClassNameRule.IsValid(record.Label))
            || record.TimestampUnixMs is < MinTimestampUnixMs or > MaxTimestampUnixMs)
        {
            return false;
        }

        var inference = record.Inference;
        if (inference is not null)
        {
            var probabilities = inference.ClassProbabilities.Count;
            var names = inference.ClassNames.Count;
            if (!IsPlainText(inference.PredictedClass, limits.MaxMetadataValueLength)
                || FiniteValues.IndexOfNonFinite(UnsafeCollectionOperations.AsSpan(inference.ClassProbabilities)) >= 0
                || probabilities > limits.MaxDimension || names > limits.MaxDimension
                || (probabilities > 0 && names > 0 && probabilities != names))
            {
                return false;
            }

            for (var i = 0; i < names; i++)
            {
                if (!IsPlainText(inference.ClassNames[i], limits.MaxMetadataValueLength))
                {
                    return false;
                }
            }
        }

        return record.Metadata.Count == 0 || MetadataValidator.IsPlainlyValid(record.Metadata, limits);
    }

    /// <summary>The earliest timestamp a record may carry: 0001-01-01T00:00:00Z, the first instant a date can name.</summary>
    public const long MinTimestampUnixMs = -62_135_596_800_000;

    /// <summary>The latest timestamp a record may carry: 9999-12-31T23:59:59.999Z, the last instant a date can name.</summary>
    public const long MaxTimestampUnixMs = 253_402_300_799_999;

    // A timestamp no date can name would be stored and then break every reader that turns it into a date.
    private static ValidationError? ValidateTimestamp(long unixMs, string field, int index) =>
        unixMs is >= MinTimestampUnixMs and <= MaxTimestampUnixMs
            ? null
            : ValidationError.Invalid(
                FormattableString.Invariant($"{field}: {unixMs} is outside the dates a timestamp can name (years 1-9999: {MinTimestampUnixMs}..{MaxTimestampUnixMs})"),
                index);

    private static bool IsPlainText(string value, int limit) => value.Length <= limit && !Utf8Text.HasReplacement(value);

    // The full check: the first problem, naming record, field and value.
    private static ValidationError? Describe(Record record, int index, int dimension, LimitsOptions limits)
    {
        var at = $"records[{index}]";
        return RecordIdFormat.Validate(record.Id, $"{at}.id", index)
            ?? DatasetNameValidator.Validate(record.Dataset, $"{at}.dataset", index)
            ?? EmbeddingValidator.Validate(UnsafeCollectionOperations.AsSpan(record.Embedding), dimension, $"{at}.embedding", index)
            ?? MaxLength(record.InputUri, limits.MaxInputUriLength, $"{at}.input_uri", index)
            ?? MaxLength(record.Label, limits.MaxMetadataValueLength, $"{at}.label", index)
            ?? ClassNameRule.Validate(record.Label, $"{at}.label", index)
            ?? ValidateTimestamp(record.TimestampUnixMs, $"{at}.timestamp_unix_ms", index)
            ?? ValidateInference(record.Inference, limits, $"{at}.inference", index)
            ?? MetadataValidator.Validate(record.Metadata, limits, $"{at}.metadata", index);
    }

    private static ValidationError? ValidateInference(Inference? inference, LimitsOptions limits, string at, int index)
    {
        if (inference is null)
        {
            return null;
        }

        var error = MaxLength(inference.PredictedClass, limits.MaxMetadataValueLength, $"{at}.predicted_class", index)
            ?? FiniteValues.Validate(UnsafeCollectionOperations.AsSpan(inference.ClassProbabilities), $"{at}.class_probabilities", index);
        if (error is not null)
        {
            return error;
        }

        // Class counts are bounded like a dimension: both describe one vector per record.
        var classes = Math.Max(inference.ClassProbabilities.Count, inference.ClassNames.Count);
        if (classes > limits.MaxDimension)
        {
            return ValidationError.Invalid($"{at}: has {classes} classes, limit {limits.MaxDimension}", index);
        }

        if (inference.ClassProbabilities.Count > 0 && inference.ClassNames.Count > 0
            && inference.ClassProbabilities.Count != inference.ClassNames.Count)
        {
            return ValidationError.Invalid(
                $"{at}.class_names: has {inference.ClassNames.Count} names for {inference.ClassProbabilities.Count} class_probabilities",
                index);
        }

        for (var i = 0; i < inference.ClassNames.Count; i++)
        {
            if (MaxLength(inference.ClassNames[i], limits.MaxMetadataValueLength, $"{at}.class_names[{i}]", index) is { } tooLong)
            {
                return tooLong;
            }
        }

        return null;
    }

    // Free text: bounded in length and refused when it arrived as invalid UTF-8.
    private static ValidationError? MaxLength(string value, int limit, string field, int index) =>
        value.Length > limit
            ? ValidationError.Invalid($"{field}: is {value.Length} characters, limit {limit}", index)
            : Utf8Text.Check(value) is { } problem ? ValidationError.Invalid($"{field}: {problem}", index) : null;
}
