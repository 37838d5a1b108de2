namespace Chroma.Server.Web.Internal;

/// <summary>
/// Finds what Studio can show of a record's input: an image carried in its metadata (a <c>data:image/…;base64,</c>
/// URI under any key, or base64 PNG/JPEG bytes under the key <c>preview</c>), else its input file when
/// <see cref="WebOptions.InputRoot"/> holds it (served by <c>/api/input</c>).
/// </summary>
internal static class RecordPreviews
{
    /// <summary>The metadata key whose value may be plain base64 image bytes.</summary>
    public const string PreviewKey = "preview";

    private static readonly string[] RasterPrefixes = ["data:image/png;base64,", "data:image/jpeg;base64,", "data:image/gif;base64,", "data:image/webp;base64,"];

    /// <summary>An image URL for the record's input (a data URI, or <c>/api/input?…</c>), or null.</summary>
    public static string? Find(Protocol.V1.Record record, string setId, long sequence, string? inputRoot)
    {
        ArgumentNullException.ThrowIfNull(record);
        if (FromMetadata(record.Metadata) is { } image)
        {
            return image;
        }

        return inputRoot is not null && InputFiles.Resolve(inputRoot, record.InputUri).Path is not null
            ? $"/api/input?set={Uri.EscapeDataString(setId)}&sequence={sequence}"
            : null;
    }

    /// <summary>Whether a metadata value is an image the page shows as a picture rather than as text.</summary>
    public static bool IsImage(string key, string value) => DataUri(key, value) is not null;

    private static string? FromMetadata(Google.Protobuf.Collections.MapField<string, string> metadata)
    {
        if (metadata.TryGetValue(PreviewKey, out var preview) && DataUri(PreviewKey, preview) is { } fromKey)
        {
            return fromKey;
        }

        return metadata.Select(m => DataUri(m.Key, m.Value)).FirstOrDefault(v => v is not null);
    }

    // Only raster images: an SVG could carry script, and nothing else is drawn as a picture.
    private static string? DataUri(string key, string value)
    {
        if (RasterPrefixes.Any(p => value.StartsWith(p, StringComparison.OrdinalIgnoreCase)))
        {
            return value;
        }

        if (key != PreviewKey)
        {
            return null;
        }

        // Plain base64: PNG starts "iVBORw0KGgo", JPEG "/9j/".
        return value.StartsWith("iVBORw0KGgo", StringComparison.Ordinal) ? "data:image/png;base64," + value
            : value.StartsWith("/9j/", StringComparison.Ordinal) ? "data:image/jpeg;base64," + value
            : null;
    }
}
