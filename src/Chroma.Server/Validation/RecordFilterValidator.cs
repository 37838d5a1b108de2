using Chroma.Protocol.V1;

namespace Chroma.Server.Validation;

/// <summary>A query's record filter: empty fields do not filter, set ones must be well-formed.</summary>
internal static class RecordFilterValidator
{
    /// <summary>Null when <paramref name="filter"/> is usable (or absent), else the problem.</summary>
    public static ValidationError? Validate(RecordFilter? filter, LimitsOptions limits)
    {
        if (filter is null)
        {
            return null;
        }

        return (filter.Dataset.Length > 0 ? DatasetNameValidator.Validate(filter.Dataset, "filter.dataset") : null)
            ?? MetadataValidator.Validate(filter.Metadata, limits, "filter.metadata");
    }
}
