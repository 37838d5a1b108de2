using System.Threading.Channels;
using Chroma.Protocol.V1;
using Chroma.Server.Diagnostics.Internal;
using Chroma.Server.Services.Internal;
using Chroma.Server.Storage;
using Chroma.Server.Validation;
using Grpc.Core;

namespace Chroma.Server.Services;

/// <summary>
/// The bidi <c>Ingest.Log</c> stream. Batches of one stream are pipelined: the next batch is read and
/// validated while earlier ones wait for their group commit, up to <see cref="MaxBatchesInFlight"/>
/// at a time. Acks are written one at a time, in the order the batches arrived, each after its batch
/// is durable or rejected; a rejected batch does not end the stream. Many streams run at once (the
/// store serializes their commits).
/// </summary>
internal sealed class IngestService : Protocol.V1.Ingest.IngestBase
{
    /// <summary>The most batches of one stream that may be between "received" and "acked".</summary>
    public const int MaxBatchesInFlight = 8;

    private readonly BatchIngestor _ingestor;
    private readonly IHostApplicationLifetime _lifetime;
    private readonly ILogger<IngestService> _logger;
    private readonly TimeSpan _idleTimeout;
    private readonly TimeProvider _timeProvider;
    private readonly int _maxMessageBytes;

    /// <summary>Creates the service.</summary>
    public IngestService(
        BatchIngestor ingestor,
        IHostApplicationLifetime lifetime,
        IngestOptions options,
        LimitsOptions limits,
        TimeProvider timeProvider,
        ILogger<IngestService> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(limits);
        _maxMessageBytes = limits.MaxMessageBytes;
        _ingestor = ingestor;
        _lifetime = lifetime;
        _logger = logger;
        _idleTimeout = options.StreamIdleTimeout;
        _timeProvider = timeProvider;
    }

    /// <inheritdoc />
    public override async Task Log(IAsyncStreamReader<LogBatch> requestStream, IServerStreamWriter<LogAck> responseStream, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(requestStream);
        ArgumentNullException.ThrowIfNull(responseStream);
        ArgumentNullException.ThrowIfNull(context);

        // The bounded channel is the per-stream window: reading stops while it is full.
        var inFlight = Channel.CreateBounded<Task<LogAck>>(new BoundedChannelOptions(MaxBatchesInFlight)
        {
            SingleReader = true,
            SingleWriter = true,
        });

        // Stop waiting for the next batch when the server shuts down (or a long-lived client stream
        // would hold the shutdown until its timeout), when the stream has been idle too long, or when
        // acks can no longer be written.
        using var idle = new IngestStreamIdleTimer(_idleTimeout, _timeProvider);
        using var readCancellation = CancellationTokenSource.CreateLinkedTokenSource(
            context.CancellationToken, _lifetime.ApplicationStopping, idle.Token);
        var acks = WriteAcksAsync(inFlight.Reader, responseStream, idle, readCancellation, context.CancellationToken);
        Exception? readFailure = null;
        try
        {
            await ReadBatchesAsync(requestStream, inFlight.Writer, idle, readCancellation.Token, context.CancellationToken).ConfigureAwait(false);
        }
#pragma warning disable CA1031 // Remembered and rethrown once the batches already received are acked.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            readFailure = ex;
        }
        finally
        {
            inFlight.Writer.TryComplete();
        }

        try
        {
            // A batch already received is finished and acked, even when the read side failed. A
            // failure to ack is the first cause (it stopped the reading), so it wins.
            await acks.ConfigureAwait(false);
            if (readFailure is not null)
            {
                System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(readFailure);
            }
        }
        catch (RpcException ex) when (ex.StatusCode == StatusCode.ResourceExhausted && ReferenceEquals(ex, readFailure))
        {
            // gRPC refuses a message over the limit before it is read ("Received message exceeds the maximum configured
            // message size."): say which limit, and what to do, since the batch cannot be acked.
            throw new RpcException(new Status(StatusCode.ResourceExhausted,
                $"request: a LogBatch is larger than the server's message limit of {_maxMessageBytes} bytes (Chroma:Limits:MaxMessageBytes); " +
                "it was not read and the stream ends here (every batch before it was acked): split it into smaller batches and send them on a new stream"));
        }
        catch (StoreUnavailableException ex)
        {
            // Nothing of the failed batch was committed; the client re-sends unacknowledged batches.
            if (!_ingestor.OutageLog.TryLog(ex))
            {
                IngestLog.StoreFailed(_logger, ex);
            }
            throw new RpcException(new Status(StatusCode.Unavailable, "the server could not store the batch; re-send it later"));
        }
        catch (Exception ex) when (IsShutdownCancellation(ex, context))
        {
            IngestLog.StreamEndedByShutdown(_logger, context.Peer);
            throw new RpcException(new Status(StatusCode.Unavailable, "the server is shutting down; re-send unacknowledged batches"));
        }
        catch (Exception ex) when (IsIdleCancellation(ex, idle, context))
        {
            // Every batch received was acked before this point: nothing is lost, the client opens a new stream when it has more.
            IngestLog.IdleStreamClosed(_logger, context.Peer, idle.Timeout);
            throw new RpcException(new Status(StatusCode.Unavailable, $"the ingest stream was idle for {idle.Timeout}; open a new stream to send more"));
        }
        catch (Exception ex) when (IsClientGone(ex, context, readFailure))
        {
            // The client cancelled or reset the stream (disposed, killed, its connection cut): ordinary traffic. Nobody is
            // left to read a status, and rethrowing would only put a stack trace in the log for every client that leaves.
            IngestLog.StreamClosedByClient(_logger, context.Peer, new ClientText(ex.Message));
        }
    }

    private async Task ReadBatchesAsync(
        IAsyncStreamReader<LogBatch> requestStream,
        ChannelWriter<Task<LogAck>> inFlight,
        IngestStreamIdleTimer idle,
        CancellationToken readCancellation,
        CancellationToken callCancellation)
    {
        while (await requestStream.MoveNext(readCancellation).ConfigureAwait(false))
        {
            idle.BatchReceived();
            // IngestAsync queues the batch for commit before it yields, so batches of one stream
            // are committed in the order they arrived. A batch received is finished even if the
            // server starts to shut down, hence the call's token rather than the read token.
            var ack = _ingestor.IngestAsync(requestStream.Current, callCancellation);
            await inFlight.WriteAsync(ack, readCancellation).ConfigureAwait(false);
        }
    }

    private static async Task WriteAcksAsync(
        ChannelReader<Task<LogAck>> inFlight,
        IServerStreamWriter<LogAck> responseStream,
        IngestStreamIdleTimer idle,
        CancellationTokenSource stopReading,
        CancellationToken cancellationToken)
    {
        try
        {
            // The only writer of the response stream: gRPC allows one pending write at a time.
            await foreach (var pending in inFlight.ReadAllAsync(CancellationToken.None).ConfigureAwait(false))
            {
                var ack = await pending.ConfigureAwait(false);
                await responseStream.WriteAsync(ack, cancellationToken).ConfigureAwait(false);
                idle.AckWritten();
            }
        }
        catch
        {
            // The stream is over: let the reader stop, and observe what is still queued so a
            // failed commit nobody awaits is not an unobserved task exception.
            await stopReading.CancelAsync().ConfigureAwait(false);
            while (inFlight.TryRead(out var abandoned))
            {
                _ = abandoned.ContinueWith(static t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
            }

            throw;
        }
    }

    private bool IsIdleCancellation(Exception exception, IngestStreamIdleTimer idle, ServerCallContext context) =>
        exception is OperationCanceledException or RpcException { StatusCode: StatusCode.Cancelled }
        && idle.Fired
        && !_lifetime.ApplicationStopping.IsCancellationRequested
        && !context.CancellationToken.IsCancellationRequested;

    // An IOException that failed the read of the request stream ("The client reset the request stream.") is the client
    // going away: Kestrel can fail the read before it cancels the call's token, so it does not wait for the token (a CI
    // run logged such a reset as an error with its stack trace). Anything else counts only once the call's token says
    // the call is over (the idle and shutdown cancellations are told apart first).
    private static bool IsClientGone(Exception exception, ServerCallContext context, Exception? readFailure) =>
        (exception is IOException && ReferenceEquals(exception, readFailure))
        || (exception is OperationCanceledException or IOException or RpcException { StatusCode: StatusCode.Cancelled }
            && context.CancellationToken.IsCancellationRequested);

    private bool IsShutdownCancellation(Exception exception, ServerCallContext context) =>
        exception is OperationCanceledException or RpcException { StatusCode: StatusCode.Cancelled }
        && _lifetime.ApplicationStopping.IsCancellationRequested
        && !context.CancellationToken.IsCancellationRequested;
}
