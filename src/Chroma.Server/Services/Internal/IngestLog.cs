using Chroma.Server.Diagnostics.Internal;

namespace Chroma.Server.Services.Internal;

/// <summary>
/// Log messages of the ingest path. Text a client chose (batch ids, reasons naming its values) is passed as
/// <see cref="ClientText"/>, made safe only when the entry is written: a newline in it cannot forge a log line.
/// </summary>
internal static partial class IngestLog
{
    [LoggerMessage(EventId = 100, Level = LogLevel.Debug, Message = "Batch {BatchId} for {SetId}: {Accepted} stored, {Duplicates} duplicates")]
    public static partial void BatchStored(ILogger logger, ClientText batchId, string setId, int accepted, int duplicates);

    [LoggerMessage(EventId = 101, Level = LogLevel.Information, Message = "Batch {BatchId} rejected ({Code}): {Reason}")]
    public static partial void BatchRejected(ILogger logger, ClientText batchId, Grpc.Core.StatusCode code, ClientText reason);

    [LoggerMessage(EventId = 104, Level = LogLevel.Debug, Message = "Batch {BatchId} of {Records} records shed: {Pending} records already wait for commit")]
    public static partial void BatchShed(ILogger logger, ClientText batchId, int records, int pending);

    [LoggerMessage(EventId = 103, Level = LogLevel.Error, Message = "Storing an ingest batch failed; the stream is ended so the client re-sends")]
    public static partial void StoreFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 102, Level = LogLevel.Information, Message = "Ingest stream from {Peer} ended by server shutdown")]
    public static partial void StreamEndedByShutdown(ILogger logger, string peer);

    [LoggerMessage(EventId = 105, Level = LogLevel.Warning, Message = "Batch {BatchId} not stored: {Reason}")]
    private static partial void StorageFullCore(ILogger logger, ClientText batchId, string reason);

    [LoggerMessage(EventId = 106, Level = LogLevel.Information, Message = "Ingest stream from {Peer} closed after {IdleTime} without a batch")]
    public static partial void IdleStreamClosed(ILogger logger, string peer, TimeSpan idleTime);

    [LoggerMessage(EventId = 107, Level = LogLevel.Debug, Message = "Ingest stream from {Peer} closed by the client ({Reason}); every batch received before was stored")]
    public static partial void StreamClosedByClient(ILogger logger, string peer, ClientText reason);

    /// <summary>A batch refused because the disk is full (the message names the data directory; no stack trace per batch).</summary>
    public static void StorageFull(ILogger logger, string batchId, Exception exception) => StorageFullCore(logger, new ClientText(batchId), exception.Message);
}
