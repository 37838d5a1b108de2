using Chroma.Server.Services.Internal;

namespace Chroma.Server.Security.Internal;

/// <summary>
/// Checks the API key of every request to the gRPC port (<see cref="ApiKeyCheck.Authorize"/>) from its headers alone,
/// before gRPC reads, decompresses or parses its message: a refused call is answered at once (a trailers-only gRPC
/// response, <c>Unauthenticated</c> or, for an address over the wrong-key limit, <c>ResourceExhausted</c>) and its body is
/// never read, so a caller without the key cannot make the server buffer messages of up to <c>MaxMessageBytes</c>.
/// Added to the pipeline only when the server has an API key. A request routed to no method (an unknown service or
/// method) needs the key too.
/// </summary>
internal sealed class GrpcApiKeyMiddleware
{
    // The longest request path said in the log for a request routed to no method (the path is the caller's text).
    private const int MaxLoggedPathLength = 100;

    private readonly RequestDelegate _next;
    private readonly ApiKeyCheck _check;

    /// <summary>Creates the middleware deciding with <paramref name="check"/>.</summary>
    public GrpcApiKeyMiddleware(RequestDelegate next, ApiKeyCheck check)
    {
        _next = next;
        _check = check;
    }

    /// <summary>Lets the request on, or answers it with the refusal.</summary>
    public Task InvokeAsync(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (!GrpcListenerRequests.IsGrpcPort(context.Request))
        {
            return _next(context);
        }

        // The last value when the header came more than once: what gRPC's own metadata lookup returned to the check
        // when it ran as an interceptor.
        var values = context.Request.Headers[ApiKeyCheck.HeaderName];
        var presented = values.Count == 0 ? null : values[^1];
        // Only a routed method can be the health service: a path that names none is said as such, never exempt.
        var method = GrpcListenerRequests.Method(context)?.Method.FullName ?? "unknown method " + Shown(context.Request.Path);
        return _check.Authorize(method, presented, context.Connection.RemoteIpAddress) is { } refusal
            ? GrpcTrailersOnlyResponse.WriteAsync(context, refusal.Status, refusal.RetryAfter)
            : _next(context);
    }

    // A path that names no method, as the log may say it: printable ASCII, cut short.
    private static string Shown(PathString path)
    {
        var text = path.Value ?? string.Empty;
        if (text.Length > MaxLoggedPathLength)
        {
            text = text[..MaxLoggedPathLength] + "...";
        }

        return text.All(c => c is >= ' ' and <= '~') ? text : "(a path with unprintable characters)";
    }
}
