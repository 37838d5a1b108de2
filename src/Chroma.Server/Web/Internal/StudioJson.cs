using System.Text.Json;
using System.Text.Json.Serialization;

namespace Chroma.Server.Web.Internal;

/// <summary>JSON settings of Studio's API: camelCase, no nulls, NaN written as null by the callers.</summary>
internal static class StudioJson
{
    /// <summary>Gets the serializer options.</summary>
    public static JsonSerializerOptions Options { get; } = new(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };
}

/// <summary>An error answer: what went wrong, in words.</summary>
/// <param name="Error">The problem, naming the field or setting.</param>
internal sealed record StudioError(string Error);
