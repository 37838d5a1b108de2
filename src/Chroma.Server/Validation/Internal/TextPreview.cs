namespace Chroma.Server.Validation.Internal;

/// <summary>Shortens user text quoted in an error so a huge value does not flood the message.</summary>
internal static class TextPreview
{
    private const int MaxLength = 40;

    public static string Of(string value) =>
        value.Length <= MaxLength ? value : string.Concat(value.AsSpan(0, MaxLength), "...");
}
