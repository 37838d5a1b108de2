using Chroma.Server.Validation.Internal;

namespace Chroma.Server.Validation;

/// <summary>Metadata maps are bounded in entry count, key length and value length.</summary>
internal static class MetadataValidator
{
    /// <summary>Whether <see cref="Validate"/> finds no problem in <paramref name="metadata"/> (without building its text).</summary>
    public static bool IsPlainlyValid(IReadOnlyDictionary<string, string> metadata, LimitsOptions limits)
    {
        if (metadata.Count > limits.MaxMetadataEntries)
        {
            return false;
        }

        foreach (var (key, value) in metadata)
        {
            if (key.Length == 0 || key.Length > limits.MaxMetadataKeyLength || value.Length > limits.MaxMetadataValueLength
                || Utf8Text.HasReplacement(key) || Utf8Text.HasReplacement(value))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Null when <paramref name="metadata"/> is within the limits, else the problem for <paramref name="field"/>.</summary>
    public static ValidationError? Validate(
        IReadOnlyDictionary<string, string> metadata, LimitsOptions limits, string field, int recordIndex = -1)
    {
        if (metadata.Count > limits.MaxMetadataEntries)
        {
            return ValidationError.Invalid(
                $"{field}: has {metadata.Count} entries, limit {limits.MaxMetadataEntries}", recordIndex);
        }

        foreach (var (key, value) in metadata)
        {
            if (key.Length == 0)
            {
                return ValidationError.Invalid($"{field}: a key is empty", recordIndex);
            }

            if (key.Length > limits.MaxMetadataKeyLength)
            {
                return ValidationError.Invalid(
                    $"{field}: key \"{TextPreview.Of(key)}\" is {key.Length} characters, limit {limits.MaxMetadataKeyLength}",
                    recordIndex);
            }

            if (value.Length > limits.MaxMetadataValueLength)
            {
                return ValidationError.Invalid(
                    $"{field}[\"{TextPreview.Of(key)}\"]: value is {value.Length} characters, limit {limits.MaxMetadataValueLength}",
                    recordIndex);
            }

            if (Utf8Text.Check(key) is { } badKey)
            {
                return ValidationError.Invalid($"{field}: key \"{TextPreview.Of(key)}\" {badKey}", recordIndex);
            }

            if (Utf8Text.Check(value) is { } badValue)
            {
                return ValidationError.Invalid($"{field}[\"{TextPreview.Of(key)}\"]: value {badValue}", recordIndex);
            }
        }

        return null;
    }
}
