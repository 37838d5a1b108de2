using System.Security.Cryptography;
using System.Text;
using Grpc.Core;
using Grpc.Core.Interceptors;

namespace Chroma.Server.Security;

/// <summary>
/// Requires the configured API key in the <c>x-api-key</c> header of every call except the
/// standard health service (load balancers and orchestrators probe it without credentials).
/// Added to the gRPC pipeline only when the server has an API key (<c>Chroma:ApiKey</c>).
/// </summary>
internal sealed class ApiKeyInterceptor : Interceptor
{
    /// <summary>The metadata header carrying the key.</summary>
    public const string HeaderName = "x-api-key";

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
    /// Creates the interceptor for <paramref name="apiKey"/> (null: the server needs no key), accepting
    /// <paramref name="previousApiKey"/> too when set (a key rotation).
    /// </summary>
    public ApiKeyInterceptor(string? apiKey, RejectedKeys? rejected = null, string? previousApiKey = null)
    {
        _expectedKey = apiKey is null ? null : Digest(apiKey);
        _previousKey = apiKey is null || previousApiKey is null ? null : Digest(previousApiKey);
        _rejected = rejected;
    }

    /// <summary>Gets whether the server has an API key.</summary>
    public bool KeyRequired => _expectedKey is not null;

    /// <inheritdoc />
    public override Task<TResponse> UnaryServerHandler<TRequest, TResponse>(
        TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation)
    {
        Authorize(context);
        return continuation(request, context);
    }

    /// <inheritdoc />
    public override Task<TResponse> ClientStreamingServerHandler<TRequest, TResponse>(
        IAsyncStreamReader<TRequest> requestStream, ServerCallContext context, ClientStreamingServerMethod<TRequest, TResponse> continuation)
    {
        Authorize(context);
        return continuation(requestStream, context);
    }

    /// <inheritdoc />
    public override Task ServerStreamingServerHandler<TRequest, TResponse>(
        TRequest request, IServerStreamWriter<TResponse> responseStream, ServerCallContext context, ServerStreamingServerMethod<TRequest, TResponse> continuation)
    {
        Authorize(context);
        return continuation(request, responseStream, context);
    }

    /// <inheritdoc />
    public override Task DuplexStreamingServerHandler<TRequest, TResponse>(
        IAsyncStreamReader<TRequest> requestStream, IServerStreamWriter<TResponse> responseStream, ServerCallContext context, DuplexStreamingServerMethod<TRequest, TResponse> continuation)
    {
        Authorize(context);
        return continuation(requestStream, responseStream, context);
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
    /// A secret for <paramref name="purpose"/> derived from the key (HMAC-SHA256 of the purpose under the key's digest):
    /// the same on every server with this key and across restarts, and a new one when the key changes; null without a key.
    /// </summary>
    internal byte[]? DeriveSecret(string purpose) =>
        _expectedKey is null ? null : HMACSHA256.HashData(_expectedKey, Encoding.UTF8.GetBytes(purpose));

    /// <summary>Counts a request refused for its key (logged at most once a minute).</summary>
    internal void ReportRejected(string what, System.Net.IPAddress? address) => _rejected?.Rejected(what, address);

    private static byte[] Digest(string key) => SHA256.HashData(Encoding.UTF8.GetBytes(key));

    // The caller's address, where the call has an HTTP context (not in a test's hand-made call context).
    private static System.Net.IPAddress? PeerAddress(ServerCallContext context)
    {
        try
        {
            return context.GetHttpContext().Connection.RemoteIpAddress;
        }
        catch (InvalidOperationException)
        {
            return null;
        }
    }

    private void Authorize(ServerCallContext context)
    {
        if (_expectedKey is null || context.Method.StartsWith(HealthServicePrefix, StringComparison.Ordinal))
        {
            return;
        }

        if (!IsValidKey(context.RequestHeaders.GetValue(HeaderName)))
        {
            if (_rejected is not null)
            {
                ReportRejected(context.Method, PeerAddress(context));
            }

            throw new RpcException(Rejected);
        }
    }
}
