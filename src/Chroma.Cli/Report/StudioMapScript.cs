namespace Chroma.Server.Cli.Report;

/// <summary>
/// Chroma Studio's point renderer (<c>src/Chroma.Server/Web/Assets/map.js</c>), linked into this assembly as a resource
/// (not a copy), so the report draws its scatter with exactly the code Studio serves.
/// </summary>
internal static class StudioMapScript
{
    private const string ResourceName = "Studio/map.js";

    /// <summary>Reads the script's text.</summary>
    public static string Read()
    {
        using var stream = typeof(StudioMapScript).Assembly.GetManifestResourceStream(ResourceName)
            ?? throw new InvalidOperationException($"{ResourceName} is not embedded in {typeof(StudioMapScript).Assembly.GetName().Name}");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
