namespace Chroma.Server.Validation.Internal;

/// <summary>
/// Shortens user text quoted in an error so a huge value does not flood the message (gRPC carries the message in a
/// header, and clients refuse headers past about 8 KB: the caller would see ResourceExhausted or Unavailable instead of the error).
/// </summary>
internal static class TextPreview
{
    private const int MaxLength = 40;

    /// <summary><paramref name="value"/>, or its first 40 characters and "..." when it is longer.</summary>
    public static string Of(string value) =>
        value.Length <= MaxLength ? value : string.Concat(value.AsSpan(0, MaxLength), "...");
}
