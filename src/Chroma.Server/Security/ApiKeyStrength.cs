namespace Chroma.Server.Security;

/// <summary>
/// The start-up check of the configured API key's length. gRPC calls with a wrong key are refused and counted
/// (<see cref="RejectedKeys"/>) but not throttled: a limit per address would also lock out the right clients behind that
/// address (a NAT, a host running a client with a stale key beside one with the right key), so the key's length is
/// the defence, and a short one is said at start.
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
            : $"Chroma:ApiKey has {apiKey.Length} characters: use at least {RecommendedLength} random ones (e.g. `openssl rand -base64 24`); gRPC calls with a wrong key are refused and counted, not throttled";
}
