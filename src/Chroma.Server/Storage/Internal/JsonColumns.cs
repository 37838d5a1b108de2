using System.Buffers;
using System.Text;
using System.Text.Json;

namespace Chroma.Server.Storage.Internal;

/// <summary>
/// Metadata maps and class-name lists as JSON text. Keys are written in ordinal order so equal
/// maps give equal text (the content hash depends on it) and SQLite's JSON functions can filter.
/// </summary>
internal static class JsonColumns
{
    /// <summary>A JSON object of <paramref name="metadata"/>, or null when it is empty.</summary>
    public static string? Write(IReadOnlyDictionary<string, string> metadata)
    {
        if (metadata.Count == 0)
        {
            return null;
        }

        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            foreach (var (key, value) in metadata.OrderBy(e => e.Key, StringComparer.Ordinal))
            {
                writer.WriteString(key, value);
            }

            writer.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    /// <summary>A JSON array of <paramref name="values"/>.</summary>
    public static string WriteArray(IEnumerable<string> values)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartArray();
            foreach (var value in values)
            {
                writer.WriteStringValue(value);
            }

            writer.WriteEndArray();
        }

        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    /// <summary>Adds every entry of a JSON object written by <see cref="Write"/> to <paramref name="target"/>.</summary>
    public static void ReadInto(string json, IDictionary<string, string> target)
    {
        using var document = JsonDocument.Parse(json);
        foreach (var property in document.RootElement.EnumerateObject())
        {
            target[property.Name] = property.Value.GetString() ?? string.Empty;
        }
    }

    /// <summary>Adds every element of a JSON array written by <see cref="WriteArray"/> to <paramref name="target"/>.</summary>
    public static void ReadArrayInto(string json, ICollection<string> target)
    {
        using var document = JsonDocument.Parse(json);
        foreach (var element in document.RootElement.EnumerateArray())
        {
            target.Add(element.GetString() ?? string.Empty);
        }
    }
}
