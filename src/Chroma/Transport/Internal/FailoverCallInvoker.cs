using Grpc.Core;

namespace Chroma.Transport.Internal;

/// <summary>
/// Sends every call to the endpoint in use (<see cref="EndpointRotation"/>). A unary call that finds its replica
/// unreachable (<see cref="StatusCode.Unavailable"/>, or a failed TLS handshake) moves the client on and is tried once on each other endpoint,
/// within the call's own deadline; streaming calls go to the endpoint in use and their owner reports failures
/// (<see cref="ReportFailure"/>).
/// </summary>
internal sealed class FailoverCallInvoker : CallInvoker
{
    private readonly CallInvoker[] _invokers;

    public FailoverCallInvoker(EndpointRotation rotation, CallInvoker[] invokers)
    {
        Rotation = rotation;
        _invokers = invokers;
    }

    public EndpointRotation Rotation { get; }

    /// <summary>The invoker of one endpoint (for a stream whose owner tracks which endpoint it is on).</summary>
    public CallInvoker For(int endpoint) => _invokers[endpoint];

    /// <summary>A call on <paramref name="endpoint"/> failed in a way another replica may not: use the next one.</summary>
    public void ReportFailure(int endpoint) => Rotation.MoveOnFrom(endpoint);

    public override AsyncUnaryCall<TResponse> AsyncUnaryCall<TRequest, TResponse>(
        Method<TRequest, TResponse> method, string? host, CallOptions options, TRequest request)
    {
        var attempts = new FailoverUnaryCall<TRequest, TResponse>(this, method, host, options, request);
        return attempts.Start();
    }

    public override TResponse BlockingUnaryCall<TRequest, TResponse>(
        Method<TRequest, TResponse> method, string? host, CallOptions options, TRequest request) =>
        AsyncUnaryCall(method, host, options, request).ResponseAsync.GetAwaiter().GetResult();

    public override AsyncServerStreamingCall<TResponse> AsyncServerStreamingCall<TRequest, TResponse>(
        Method<TRequest, TResponse> method, string? host, CallOptions options, TRequest request) =>
        _invokers[Rotation.Current].AsyncServerStreamingCall(method, host, options, request);

    public override AsyncClientStreamingCall<TRequest, TResponse> AsyncClientStreamingCall<TRequest, TResponse>(
        Method<TRequest, TResponse> method, string? host, CallOptions options) =>
        _invokers[Rotation.Current].AsyncClientStreamingCall(method, host, options);

    public override AsyncDuplexStreamingCall<TRequest, TResponse> AsyncDuplexStreamingCall<TRequest, TResponse>(
        Method<TRequest, TResponse> method, string? host, CallOptions options) =>
        _invokers[Rotation.Current].AsyncDuplexStreamingCall(method, host, options);
}
