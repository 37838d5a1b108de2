using System.Net;
using System.Security.Cryptography;
using System.Text;
using Grpc.Core;

namespace Chroma.Server.Security;

/// <summary>
/// The one place that decides whether a caller presented the configured API key (<c>Chroma:ApiKey</c>, or
/// <c>Chroma:PreviousApiKey</c> during a rotation): for gRPC calls (<see cref="Authorize"/>, enforced from the request
/// headers before any message is read by <see cref="Internal.GrpcApiKeyMiddleware"/>) and for Studio's sign-in
/// (<see cref="IsValidKey"/>). Every gRPC method needs the key in the <c>x-api-key</c> header except the standard health
/// service (load balancers and orchestrators probe it without credentials). Wrong keys over gRPC are limited per address
/// (<see cref="GrpcThrottle"/>).
/// </summary>
internal sealed class ApiKeyCheck
{
    /// <summary>The metadata header carrying the key.</summary>
    public const string HeaderName = "x-api-key";

    /// <summary>Wrong keys one address may send over gRPC within <see cref="GrpcWindow"/> before its calls are refused.</summary>
    public const int GrpcFailuresAllowed = 30;

    /// <summary>How long wrong keys over gRPC count against an address (and the longest it is refused).</summary>
    public static readonly TimeSpan GrpcWindow = TimeSpan.FromMinutes(1);

    private const string HealthServicePrefix = "/grpc.health.v1.Health/";

    // Same text whatever was wrong, so a caller learns nothing about the key.
    private static readonly Status Rejected = new(StatusCode.Unauthenticated, "missing or invalid API key");

    // The SHA-256 of the key, not the key: nothing in memory dumps of this object reads as the secret.
    private readonly byte[]? _expectedKey;

    // The previous key's digest, accepted too while clients move to the new key (Chroma:PreviousApiKey), or null.
    private readonly byte[]? _previousKey;

    // Where refused keys are counted and said (null in unit tests of the key check alone).
    private readonly RejectedKeys? _rejected;

    /// <summary>
    /// Creates the check for <paramref name="apiKey"/> (null: the server needs no key), accepting
    /// <paramref name="previousApiKey"/> too when set (a key rotation); the gRPC throttle reads the time from
    /// <paramref name="time"/> (the system's when null).
    /// </summary>
    public ApiKeyCheck(string? apiKey, RejectedKeys? rejected = null, string? previousApiKey = null, TimeProvider? time = null)
    {
        _expectedKey = apiKey is null ? null : Digest(apiKey);
        _previousKey = apiKey is null || previousApiKey is null ? null : Digest(previousApiKey);
        _rejected = rejected;
        GrpcThrottle = new WrongKeyThrottle(time ?? TimeProvider.System, GrpcFailuresAllowed, GrpcWindow);
    }

    /// <summary>Gets whether the server has an API key.</summary>
    public bool KeyRequired => _expectedKey is not null;

    /// <summary>Gets the limit on wrong keys per address over gRPC.</summary>
    public WrongKeyThrottle GrpcThrottle { get; }

    /// <summary>
    /// Decides a gRPC call to <paramref name="method"/> (its full name, <c>/package.Service/Method</c>; for a path that
    /// names no method, that path) that presented <paramref name="presentedKey"/> from <paramref name="address"/>: null
    /// when it may run, otherwise the status to refuse it with and, for an address over the wrong-key limit, how long it
    /// is refused. Counts the outcome against the address and in the log's once-a-minute warning.
    /// </summary>
    public ApiKeyRefusal? Authorize(string method, string? presentedKey, IPAddress? address)
    {
        ArgumentNullException.ThrowIfNull(method);
        if (_expectedKey is null || method.StartsWith(HealthServicePrefix, StringComparison.Ordinal))
        {
            return null;
        }

        // An address over the limit is refused before its key is compared: further guesses tell it nothing.
        if (GrpcThrottle.RetryAfter(address) is { } wait)
        {
            ReportRejected(method, address);
            var seconds = (int)Math.Ceiling(wait.TotalSeconds);
            return new ApiKeyRefusal(
                new Status(StatusCode.ResourceExhausted,
                    $"too many wrong API keys from this address ({GrpcThrottle.FailuresAllowed} within {GrpcThrottle.Window.TotalSeconds:0} s): " +
                    $"its calls are refused for {seconds} s more, whatever key they carry; check the client's API key"),
                wait);
        }

        if (!IsValidKey(presentedKey))
        {
            GrpcThrottle.Failed(address);
            ReportRejected(method, address);
            return new ApiKeyRefusal(Rejected, null);
        }

        GrpcThrottle.Succeeded(address);
        return null;
    }

    /// <summary>Whether <paramref name="presented"/> equals the expected key, in time independent of where they differ.</summary>
    internal bool IsValidKey(string? presented)
    {
        if (_expectedKey is null)
        {
            return true;
        }

        if (presented is null)
        {
            return false;
        }

        // Comparing fixed-length digests keeps the time independent of the key's length too
        // (FixedTimeEquals returns at once when the lengths differ); both keys are always compared.
        var digest = Digest(presented);
        var current = CryptographicOperations.FixedTimeEquals(digest, _expectedKey);
        var previous = _previousKey is not null && CryptographicOperations.FixedTimeEquals(digest, _previousKey);
        return current | previous;
    }

    /// <summary>
    /// Whether <paramref name="presented"/> is the current key (<c>ApiKey</c>), not <c>PreviousApiKey</c>, in time
    /// independent of where they differ: Studio's sign-in, since a person can type the new key, and a key rotated out
    /// after a leak should stop opening Studio at once.
    /// </summary>
    internal bool IsCurrentKey(string? presented) =>
        _expectedKey is null || (presented is not null && CryptographicOperations.FixedTimeEquals(Digest(presented), _expectedKey));

    /// <summary>
    /// A secret for <paramref name="purpose"/> derived from the key (HMAC-SHA256 of the purpose under the key's digest):
    /// the same on every server with this key and across restarts, and a new one when the key changes; null without a key.
    /// </summary>
    internal byte[]? DeriveSecret(string purpose) =>
        _expectedKey is null ? null : HMACSHA256.HashData(_expectedKey, Encoding.UTF8.GetBytes(purpose));

    /// <summary>Counts a request refused for its key (logged at most once a minute).</summary>
    internal void ReportRejected(string what, IPAddress? address) => _rejected?.Rejected(what, address);

    private static byte[] Digest(string key) => SHA256.HashData(Encoding.UTF8.GetBytes(key));
}
