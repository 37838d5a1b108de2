using Chroma.Protocol.V1;
using Chroma.Server.Services.Internal;
using Grpc.Core;
using Microsoft.Data.Sqlite;

namespace Chroma.Server.Services;

/// <summary>
/// The bidi <c>Ingest.Log</c> stream. Batches of one stream are handled in order, each acked after
/// it is durable or rejected; a rejected batch does not end the stream. Many streams run at once
/// (the store serializes their commits).
/// </summary>
internal sealed class IngestService : Protocol.V1.Ingest.IngestBase
{
    private readonly BatchIngestor _ingestor;
    private readonly IHostApplicationLifetime _lifetime;
    private readonly ILogger<IngestService> _logger;

    /// <summary>Creates the service.</summary>
    public IngestService(BatchIngestor ingestor, IHostApplicationLifetime lifetime, ILogger<IngestService> logger)
    {
        _ingestor = ingestor;
        _lifetime = lifetime;
        _logger = logger;
    }

    /// <inheritdoc />
    public override async Task Log(IAsyncStreamReader<LogBatch> requestStream, IServerStreamWriter<LogAck> responseStream, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(requestStream);
        ArgumentNullException.ThrowIfNull(responseStream);
        ArgumentNullException.ThrowIfNull(context);

        // Stop waiting for the next batch when the server shuts down, or a long-lived client
        // stream would hold the shutdown until its timeout. A batch already received is finished.
        using var readCancellation = CancellationTokenSource.CreateLinkedTokenSource(
            context.CancellationToken, _lifetime.ApplicationStopping);
        try
        {
            while (await requestStream.MoveNext(readCancellation.Token).ConfigureAwait(false))
            {
                var ack = await _ingestor.IngestAsync(requestStream.Current, context.CancellationToken).ConfigureAwait(false);
                await responseStream.WriteAsync(ack, context.CancellationToken).ConfigureAwait(false);
            }
        }
        catch (SqliteException ex)
        {
            // Nothing of the failed batch was committed; the client re-sends unacknowledged batches.
            IngestLog.StoreFailed(_logger, ex);
            throw new RpcException(new Status(StatusCode.Unavailable, "the server could not store the batch; re-send it later"));
        }
        catch (Exception ex) when (IsShutdownCancellation(ex, context))
        {
            IngestLog.StreamEndedByShutdown(_logger, context.Peer);
            throw new RpcException(new Status(StatusCode.Unavailable, "the server is shutting down; re-send unacknowledged batches"));
        }
    }

    private bool IsShutdownCancellation(Exception exception, ServerCallContext context) =>
        exception is OperationCanceledException or RpcException { StatusCode: StatusCode.Cancelled }
        && _lifetime.ApplicationStopping.IsCancellationRequested
        && !context.CancellationToken.IsCancellationRequested;
}
