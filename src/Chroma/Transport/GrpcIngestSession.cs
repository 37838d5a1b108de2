using Chroma.Protocol.V1;
using Grpc.Core;

namespace Chroma.Transport;

/// <summary>An ingest stream over a gRPC duplex call. Any transport failure surfaces as <see cref="RpcException"/>.</summary>
internal sealed class GrpcIngestSession : IIngestSession
{
    private readonly AsyncDuplexStreamingCall<LogBatch, LogAck> _call;
    private volatile bool _reading;

    private static readonly TimeSpan s_closeTimeout = TimeSpan.FromSeconds(1);

    public GrpcIngestSession(AsyncDuplexStreamingCall<LogBatch, LogAck> call, int endpoint = 0)
    {
        _call = call;
        Endpoint = endpoint;
    }

    /// <summary>Which of the client's endpoints the stream is on (its index).</summary>
    public int Endpoint { get; }

    public async Task WriteAsync(LogBatch batch, CancellationToken cancellationToken)
    {
        try
        {
            await _call.RequestStream.WriteAsync(batch, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not RpcException and not OperationCanceledException)
        {
            // A write to a call that already failed reports InvalidOperationException; the call's status says why.
            throw new RpcException(StatusOrUnavailable(ex), ex.Message);
        }
    }

    public async Task<LogAck?> ReadAckAsync(CancellationToken cancellationToken)
    {
        _reading = true;
        try
        {
            return await _call.ResponseStream.MoveNext(cancellationToken).ConfigureAwait(false) ? _call.ResponseStream.Current : null;
        }
        catch (Exception ex) when (ex is not RpcException and not OperationCanceledException)
        {
            throw new RpcException(StatusOrUnavailable(ex), ex.Message);
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
