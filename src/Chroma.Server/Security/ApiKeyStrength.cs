namespace Chroma.Server.Security;

/// <summary>
/// The start-up check of the configured API key's length. Wrong keys are limited per address (gRPC:
/// <see cref="ApiKeyCheck.GrpcFailuresAllowed"/> a minute; Studio's sign-in: 5 a minute), which makes guessing a long random
/// key hopeless but cannot make a short or guessable one safe (many addresses guess in parallel), so a short key is
/// said at start. The server still starts with it: refusing would break servers that run with one today.
/// </summary>
internal static class ApiKeyStrength
{
    /// <summary>
    /// Fewest characters a key should have: 16 random characters of a 62-letter alphabet are about 95 bits, beyond
    /// reach of guessing over the network at any rate a server answers.
    /// </summary>
    public const int RecommendedLength = 16;

    /// <summary>The warning for <paramref name="apiKey"/>, or null when there is no key or it is long enough.</summary>
    public static string? Warning(string? apiKey) =>
        apiKey is null || apiKey.Length >= RecommendedLength
            ? null
            : $"Chroma:ApiKey has only {apiKey.Length} characters, short enough to be guessed: use at least {RecommendedLength} random ones " +
              "(e.g. the output of `openssl rand -hex 32`). The server runs with it, but wrong keys are only slowed down " +
              $"({ApiKeyCheck.GrpcFailuresAllowed} a minute per address over gRPC, 5 on Studio's sign-in), which does not protect a short key";
}
