using System.Text.Json;
using System.Text.Json.Serialization;

namespace Chroma.Server.Cli.Internal;

/// <summary>The one JSON shape of CLI output: camelCase, compact, nulls left out.</summary>
internal static class CliJson
{
    /// <summary>Gets the serializer options every command uses.</summary>
    public static JsonSerializerOptions Options { get; } = new(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    /// <summary>Writes <paramref name="value"/> as one line of JSON.</summary>
    public static Task WriteLineAsync<T>(TextWriter output, T value) =>
        output.WriteLineAsync(JsonSerializer.Serialize(value, Options));
}
