using Grpc.Core;
using Microsoft.Extensions.Logging;

namespace Chroma.Diagnostics;

/// <summary>The client's log messages (source-generated). Secrets such as the API key are never logged.</summary>
internal static partial class ChromaClientLog
{
    [LoggerMessage(16, LogLevel.Warning, "Chroma setting '{Path}' is not a client setting and is ignored; did you mean '{Meant}'? The client uses that setting's configured or default value.")]
    public static partial void IgnoredSetting(ILogger logger, string path, string meant);

    [LoggerMessage(15, LogLevel.Warning, "Chroma: {Detail} (told once per set; the records are sent as given).")]
    public static partial void SuspectValues(ILogger logger, string detail);

    [LoggerMessage(1, LogLevel.Warning, "Chroma capture problem ({Kind}); further problems of this kind are counted, not logged.")]
    public static partial void CaptureProblem(ILogger logger, string kind, Exception? exception);

    [LoggerMessage(2, LogLevel.Warning, "Chroma dropped {Count} records in the last {Seconds:F0} s ({Total} in all): {QueueFull} found the queue full, {Invalid} were invalid (each kind of invalid record is logged once as a capture problem).")]
    public static partial void RecordsDropped(ILogger logger, long count, double seconds, long total, long queueFull, long invalid);

    [LoggerMessage(3, LogLevel.Debug, "Chroma ingest stream failed ({Status}); retry {Attempt} in {DelayMs:F0} ms.")]
    public static partial void StreamRetry(ILogger logger, StatusCode status, int attempt, double delayMs, Exception? exception);

    [LoggerMessage(12, LogLevel.Warning, "Chroma cannot deliver to the server at {Endpoint} ({Status}: {Detail}); retrying with growing delays, up to {MaxDelaySeconds:0.###} s apart. Records wait in the queue meanwhile; any the queue cannot hold are counted as dropped.")]
    public static partial void ServerUnreachable(ILogger logger, string endpoint, StatusCode status, string detail, double maxDelaySeconds);

    [LoggerMessage(4, LogLevel.Error, "Chroma server rejected a batch of {Count} records for set {SetId}: {Code} {Message}")]
    public static partial void BatchRejected(ILogger logger, int count, string setId, StatusCode code, string message);

    [LoggerMessage(5, LogLevel.Warning, "Chroma server rejected record {RecordIndex} of a batch for set {SetId}: {Code} {Message}; the rest of the batch is re-sent.")]
    public static partial void RecordRejected(ILogger logger, int recordIndex, string setId, StatusCode code, string message);

    [LoggerMessage(13, LogLevel.Warning, "Chroma server rejected {Count} of the {Total} records of batch {BatchId} for set {SetId} ({Code}, first: {Message}); they are counted as failed and the other {Left} records are re-sent.")]
    public static partial void RecordsRejected(ILogger logger, int count, int total, string batchId, string setId, StatusCode code, string message, int left);

    [LoggerMessage(14, LogLevel.Warning, "Chroma server rejected all {Count} records of batch {BatchId} for set {SetId} ({Code}, first: {Message}); they are counted as failed.")]
    public static partial void AllRecordsRejected(ILogger logger, int count, string batchId, string setId, StatusCode code, string message);

    [LoggerMessage(6, LogLevel.Warning, "Chroma could not deliver {Count} records before the drain timeout of {Seconds:F1} s; they are counted as failed.")]
    public static partial void DrainTimedOut(ILogger logger, long count, double seconds);

    [LoggerMessage(7, LogLevel.Error, "Chroma ingest stream failed with {Status} ({Detail}), which retrying cannot fix; {Count} records in flight are counted as failed.")]
    public static partial void StreamFailedPermanently(ILogger logger, StatusCode status, string detail, int count, Exception exception);

    [LoggerMessage(11, LogLevel.Debug, "Chroma ingest stream failed with {Status} again; {Count} more records in flight are counted as failed.")]
    public static partial void StreamFailedPermanentlyAgain(ILogger logger, StatusCode status, int count);

    [LoggerMessage(8, LogLevel.Debug, "Chroma server is shedding load; batch re-sent after {DelayMs} ms.")]
    public static partial void ServerBusy(ILogger logger, long delayMs);

    [LoggerMessage(
        29, LogLevel.Warning,
        "Chroma server stored nothing of a batch for now ({Status}: {Reason}); it is re-sent after {DelayMs} ms and its records wait in the client's queue (said at most once every {Seconds:F0} s while it lasts).")]
    public static partial void ServerRefusedForNow(ILogger logger, StatusCode status, string reason, long delayMs, double seconds);

    [LoggerMessage(10, LogLevel.Warning, "The process is exiting and the Chroma client was not disposed: delivering its {Count} records (for up to {Seconds:F0} s). Dispose the client (await using) to choose when.")]
    public static partial void DrainingAtExit(ILogger logger, long count, double seconds);

    [LoggerMessage(9, LogLevel.Error, "Chroma's delivery loop stopped with an unexpected error; what it had not delivered is counted as failed.")]
    public static partial void DeliveryLoopFailed(ILogger logger, Exception exception);
}
