using Chroma.Protocol.V1;
using Grpc.Core;

namespace Chroma.Transport;

/// <summary>An ingest stream over a gRPC duplex call. Any transport failure surfaces as <see cref="RpcException"/>.</summary>
internal sealed class GrpcIngestSession : IIngestSession
{
    private readonly AsyncDuplexStreamingCall<LogBatch, LogAck> _call;
    private volatile bool _reading;

    private static readonly TimeSpan s_closeTimeout = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan s_statusWait = TimeSpan.FromMilliseconds(500);
    private static readonly TimeSpan s_statusPoll = TimeSpan.FromMilliseconds(10);

    public GrpcIngestSession(AsyncDuplexStreamingCall<LogBatch, LogAck> call, int endpoint = 0, Uri? endpointUri = null)
    {
        _call = call;
        Endpoint = endpoint;
        EndpointUri = endpointUri;
    }

    /// <summary>Which of the client's endpoints the stream is on (its index).</summary>
    public int Endpoint { get; }

    /// <summary>The address of that endpoint, named when it turns out to be the wrong kind; <see langword="null"/> when unknown.</summary>
    public Uri? EndpointUri { get; }

    public async Task WriteAsync(LogBatch batch, CancellationToken cancellationToken)
    {
        try
        {
            await _call.RequestStream.WriteAsync(batch, cancellationToken).ConfigureAwait(false);
        }
        catch (RpcException ex) when (ex.StatusCode == StatusCode.Cancelled && string.IsNullOrEmpty(ex.Status.Detail)
            && !cancellationToken.IsCancellationRequested && !Http11OnlyEndpoint.IsCause(ex))
        {
            // The server may end the call while a large message is still going out (e.g. one over its message limit):
            // the write sees a bare Cancelled a moment before the server's status arrives. Wait briefly for that status.
            await WaitForStatusAsync().ConfigureAwait(false);
            throw Clarified(ex, cancellationToken) ?? ex;
        }
        catch (RpcException ex) when (Clarified(ex, cancellationToken) is { } clarified)
        {
            throw clarified;
        }
        catch (Exception ex) when (ex is not RpcException and not OperationCanceledException)
        {
            // A write to a call that already failed reports InvalidOperationException; the call's status says why.
            await WaitForStatusAsync().ConfigureAwait(false);
            var failure = new RpcException(StatusOrUnavailable(ex), ex.Message);
            throw Clarified(failure, cancellationToken) ?? failure;
        }
    }

    public async Task<LogAck?> ReadAckAsync(CancellationToken cancellationToken)
    {
        _reading = true;
        try
        {
            return await _call.ResponseStream.MoveNext(cancellationToken).ConfigureAwait(false) ? _call.ResponseStream.Current : null;
        }
        catch (RpcException ex) when (Clarified(ex, cancellationToken) is { } clarified)
        {
            throw clarified;
        }
        catch (Exception ex) when (ex is not RpcException and not OperationCanceledException)
        {
            var failure = new RpcException(StatusOrUnavailable(ex), ex.Message);
            throw Clarified(failure, cancellationToken) ?? failure;
        }
        finally
        {
            _reading = false;
        }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            // Half-close, then let the server finish its side, so the stream ends cleanly instead of being reset.
            await _call.RequestStream.CompleteAsync().WaitAsync(s_closeTimeout).ConfigureAwait(false);
            if (!_reading)
            {
                using var timeout = new CancellationTokenSource(s_closeTimeout);
                while (await _call.ResponseStream.MoveNext(timeout.Token).ConfigureAwait(false))
                {
                }
            }
        }
#pragma warning disable CA1031 // Closing a broken stream may fail in many ways; the call is disposed either way.
        catch (Exception)
#pragma warning restore CA1031
        {
        }

        _call.Dispose();
    }

    /// <summary>Waits up to <see cref="s_statusWait"/> for the call's status (trailers) to arrive, without reading the response stream.</summary>
    private async Task WaitForStatusAsync()
    {
        var waited = TimeSpan.Zero;
        while (waited < s_statusWait)
        {
            try
            {
                _ = _call.GetStatus();
                return;
            }
            catch (InvalidOperationException)
            {
                // Not finished yet.
            }

            await Task.Delay(s_statusPoll).ConfigureAwait(false);
            waited += s_statusPoll;
        }
    }

    /// <summary>
    /// A clearer form of <paramref name="ex"/>, or <see langword="null"/> to keep it: an endpoint that speaks HTTP/1.1 only
    /// is named; a bare Cancelled (no detail) that the client did not ask for is the stream torn down under a read or
    /// write, so the call's own status is used when the server sent one (e.g. Unavailable, "the server is shutting
    /// down"), and otherwise the status says in words what happened.
    /// </summary>
    private RpcException? Clarified(RpcException ex, CancellationToken cancellationToken)
    {
        if (Http11OnlyEndpoint.IsCause(ex))
        {
            return Http11OnlyEndpoint.Explain(ex, EndpointUri);
        }

        if (ex.StatusCode != StatusCode.Cancelled || !string.IsNullOrEmpty(ex.Status.Detail) || cancellationToken.IsCancellationRequested)
        {
            return null;
        }

        try
        {
            var status = _call.GetStatus();
            if (status.StatusCode != StatusCode.OK && !(status.StatusCode == StatusCode.Cancelled && string.IsNullOrEmpty(status.Detail)))
            {
                return new RpcException(status, ex.Trailers);
            }
        }
        catch (InvalidOperationException)
        {
            // No status yet: the stream ended before the server's trailers arrived.
        }

        return new RpcException(
            new Status(StatusCode.Cancelled, "the ingest stream was torn down before the server sent a status (connection closed or reset)", ex),
            ex.Trailers);
    }

    private Status StatusOrUnavailable(Exception ex)
    {
        try
        {
            var status = _call.GetStatus();
            return status.StatusCode == StatusCode.OK ? new Status(StatusCode.Unavailable, ex.Message) : status;
        }
        catch (InvalidOperationException)
        {
            return new Status(StatusCode.Unavailable, ex.Message, ex);
        }
    }
}
