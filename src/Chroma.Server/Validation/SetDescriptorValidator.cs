using Chroma.Protocol.V1;
using Chroma.Server.Validation.Internal;

namespace Chroma.Server.Validation;

/// <summary>Checks an embedding set descriptor and derives its id (<c>model/model_version/layer</c>).</summary>
internal static class SetDescriptorValidator
{
    /// <summary>The longest model, version or layer name.</summary>
    public const int MaxNameLength = 128;

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

        return set.Dimension < 1 || set.Dimension > maxDimension
            ? ValidationError.Invalid($"set.dimension: must be between 1 and {maxDimension} (got {set.Dimension})")
            : null;
    }

    /// <summary>The stable id of a set: <c>model/model_version/layer</c>.</summary>
    public static string SetId(EmbeddingSetDescriptor set) => $"{set.Model}/{set.ModelVersion}/{set.Layer}";

    private static string? Name(string field, string value) =>
        NameCharacters.Check(value, MaxNameLength) is { } problem ? $"{field}: {problem}" : null;
}
