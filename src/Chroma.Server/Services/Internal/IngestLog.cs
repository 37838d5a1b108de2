namespace Chroma.Server.Services.Internal;

/// <summary>Log messages of the ingest path.</summary>
internal static partial class IngestLog
{
    [LoggerMessage(EventId = 100, Level = LogLevel.Debug, Message = "Batch {BatchId} for {SetId}: {Accepted} stored, {Duplicates} duplicates")]
    public static partial void BatchStored(ILogger logger, string batchId, string setId, int accepted, int duplicates);

    [LoggerMessage(EventId = 101, Level = LogLevel.Information, Message = "Batch {BatchId} rejected ({Code}): {Reason}")]
    public static partial void BatchRejected(ILogger logger, string batchId, Grpc.Core.StatusCode code, string reason);

    [LoggerMessage(EventId = 103, Level = LogLevel.Error, Message = "Storing an ingest batch failed; the stream is ended so the client re-sends")]
    public static partial void StoreFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 102, Level = LogLevel.Information, Message = "Ingest stream from {Peer} ended by server shutdown")]
    public static partial void StreamEndedByShutdown(ILogger logger, string peer);
}
