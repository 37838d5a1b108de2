using System.Collections.Frozen;
using System.Security.Cryptography;

namespace Chroma.Server.Web.Internal;

/// <summary>
/// Studio's static files (HTML, JS, CSS), embedded in the server assembly under <c>Studio/</c>: nothing
/// to install or deploy next to the server, and no Node.js anywhere in the build.
/// </summary>
internal sealed class StudioAssets
{
    private const string Prefix = "Studio/";

    private readonly FrozenDictionary<string, StudioAsset> _assets;

    /// <summary>Loads every embedded asset.</summary>
    public StudioAssets()
    {
        var assembly = typeof(StudioAssets).Assembly;
        var assets = new Dictionary<string, StudioAsset>(StringComparer.Ordinal);
        foreach (var name in assembly.GetManifestResourceNames().Where(n => n.StartsWith(Prefix, StringComparison.Ordinal)))
        {
            using var stream = assembly.GetManifestResourceStream(name)!;
            using var buffer = new MemoryStream();
            stream.CopyTo(buffer);
            var bytes = buffer.ToArray();
            var file = name[Prefix.Length..];
            assets[file] = new StudioAsset(bytes, ContentType(file), "\"" + Convert.ToHexString(SHA256.HashData(bytes))[..16] + "\"");
        }

        _assets = assets.ToFrozenDictionary(StringComparer.Ordinal);
    }

    /// <summary>The text of the embedded asset <paramref name="file"/> (the offline report embeds <c>map.js</c>).</summary>
    public static string ReadText(string file)
    {
        using var stream = typeof(StudioAssets).Assembly.GetManifestResourceStream(Prefix + file)
            ?? throw new InvalidOperationException($"Studio asset {file} is not embedded in the server assembly");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }

    /// <summary>The asset named <paramref name="file"/> (for example <c>studio.js</c>), or null.</summary>
    public StudioAsset? Find(string file) => _assets.GetValueOrDefault(file);

    private static string ContentType(string file) => Path.GetExtension(file) switch
    {
        ".html" => "text/html; charset=utf-8",
        ".js" => "text/javascript; charset=utf-8",
        ".css" => "text/css; charset=utf-8",
        ".svg" => "image/svg+xml",
        _ => "application/octet-stream",
    };
}

/// <summary>One embedded file.</summary>
/// <param name="Content">Its bytes.</param>
/// <param name="ContentType">Its media type.</param>
/// <param name="ETag">A strong validator from its hash.</param>
internal sealed record StudioAsset(byte[] Content, string ContentType, string ETag);
