using Chroma.Protocol.V1;
using Chroma.Server.Validation.Internal;

namespace Chroma.Server.Validation;

/// <summary>Checks an embedding set descriptor and derives its id (<c>model/model_version/layer</c>).</summary>
internal static class SetDescriptorValidator
{
    /// <summary>The longest model, version or layer name.</summary>
    public const int MaxNameLength = 128;

    /// <summary>The longest set id (<see cref="SetId"/>): three names of <see cref="MaxNameLength"/> and two slashes.</summary>
    public const int MaxSetIdLength = (3 * MaxNameLength) + 2;

    /// <summary>
    /// <paramref name="setId"/> as an error message may quote it: whole when a set could have it, else cut short
    /// with its length (a caller's id is not bounded until it is looked up).
    /// </summary>
    public static string Quote(string setId) =>
        setId.Length <= MaxSetIdLength ? $"'{setId}'" : $"'{TextPreview.Of(setId)}' ({setId.Length} characters, longer than any set id)";

    /// <summary>Null when <paramref name="set"/> is usable, else the first problem.</summary>
    public static ValidationError? Validate(EmbeddingSetDescriptor? set, int maxDimension)
    {
        if (set is null)
        {
            return ValidationError.Invalid("set: is required");
        }

        var problem = Name("set.model", set.Model) ?? Name("set.model_version", set.ModelVersion) ?? Name("set.layer", set.Layer);
        if (problem is not null)
        {
            return ValidationError.Invalid(problem);
        }

        if (set.Dimension < 1 || set.Dimension > maxDimension)
        {
            return ValidationError.Invalid($"set.dimension: must be between 1 and {maxDimension} (got {set.Dimension})");
        }

        return Enum.IsDefined(set.Metric)
            ? null
            : ValidationError.Invalid($"set.metric: {(int)set.Metric} is not a known metric (DISTANCE_METRIC_L2 = 1, DISTANCE_METRIC_COSINE = 2, or 0 for the set's own)");
    }

    /// <summary>
    /// The stable id of a set: <c>model/model_version/layer</c>. The metric is not part of it: one model layer is
    /// one set, and a batch naming another metric than the set's is refused rather than starting a second set.
    /// </summary>
    public static string SetId(EmbeddingSetDescriptor set) => $"{set.Model}/{set.ModelVersion}/{set.Layer}";

    private static string? Name(string field, string value) =>
        NameCharacters.Check(value, MaxNameLength) is { } problem ? $"{field}: {problem}" : null;
}
