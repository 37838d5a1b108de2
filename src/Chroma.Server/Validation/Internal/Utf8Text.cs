namespace Chroma.Server.Validation.Internal;

/// <summary>
/// Detects strings that arrived as invalid UTF-8. Google.Protobuf does not reject such bytes: it
/// decodes them leniently, each bad sequence becoming U+FFFD. Storing that would silently change
/// the caller's data, so free-text fields holding U+FFFD are refused instead (a client that means
/// the replacement character itself is rare enough to pay for the clear error).
/// </summary>
internal static class Utf8Text
{
    private const char ReplacementCharacter = '\uFFFD';

    /// <summary>Whether <paramref name="value"/> holds U+FFFD (<see cref="Check"/> then names the problem).</summary>
    public static bool HasReplacement(string value) => value.Contains(ReplacementCharacter, StringComparison.Ordinal);

    /// <summary>The problem text for <paramref name="value"/>, or null when it decoded cleanly.</summary>
    public static string? Check(string value)
    {
        // Positions count from 1, as NameCharacters' do.
        var at = value.IndexOf(ReplacementCharacter, StringComparison.Ordinal);
        return at < 0 ? null : $"is not valid UTF-8 (character {at + 1} is U+FFFD, the decoder's replacement for bad bytes)";
    }
}
