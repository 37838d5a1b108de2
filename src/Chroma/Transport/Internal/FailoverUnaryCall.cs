using Grpc.Core;

namespace Chroma.Transport.Internal;

/// <summary>
/// One unary call with failover: the first attempt goes to the endpoint in use; while an attempt answers
/// <see cref="StatusCode.Unavailable"/> (the replica is down or shutting down), or fails its TLS handshake (Internal, but
/// no request reached the replica: its certificate is not trusted or does not name it), and the caller has not cancelled,
/// the next endpoint is tried, each endpoint at most once. Headers, status and trailers are those of the last attempt.
/// </summary>
internal sealed class FailoverUnaryCall<TRequest, TResponse>
    where TRequest : class
    where TResponse : class
{
    private readonly FailoverCallInvoker _invoker;
    private readonly Method<TRequest, TResponse> _method;
    private readonly string? _host;
    private readonly CallOptions _options;
    private readonly TRequest _request;
    private AsyncUnaryCall<TResponse>? _last;

    public FailoverUnaryCall(FailoverCallInvoker invoker, Method<TRequest, TResponse> method, string? host, CallOptions options, TRequest request)
    {
        _invoker = invoker;
        _method = method;
        _host = host;
        _options = options;
        _request = request;
    }

    public AsyncUnaryCall<TResponse> Start()
    {
        var response = RunAsync();
        return new AsyncUnaryCall<TResponse>(
            response,
            HeadersAsync(response),
            () => _last?.GetStatus() ?? new Status(StatusCode.Unknown, "The call has not started."),
            () => _last?.GetTrailers() ?? [],
            () => _last?.Dispose());
    }

    private async Task<TResponse> RunAsync()
    {
        var endpoints = _invoker.Rotation.Endpoints.Count;
        var endpoint = _invoker.Rotation.Current;
        for (var attempt = 1; ; attempt++)
        {
            var call = _invoker.For(endpoint).AsyncUnaryCall(_method, _host, _options, _request);
            var previous = Interlocked.Exchange(ref _last, call);
            previous?.Dispose();
            try
            {
                return await call.ResponseAsync.ConfigureAwait(false);
            }
            catch (RpcException ex) when ((ex.StatusCode == StatusCode.Unavailable || TlsHandshake.Failed(ex))
                && attempt < endpoints
                && !_options.CancellationToken.IsCancellationRequested)
            {
                endpoint = _invoker.Rotation.MoveOnFrom(endpoint);
            }
        }
    }

    private async Task<Metadata> HeadersAsync(Task<TResponse> response)
    {
        await ((Task)response).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        return _last is { } last ? await last.ResponseHeadersAsync.ConfigureAwait(false) : [];
    }
}
