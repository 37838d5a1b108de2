using Microsoft.Extensions.Logging;

namespace Chroma.Diagnostics;

internal static partial class ChromaClientLog
{
    [LoggerMessage(20, LogLevel.Warning, "Chroma server refused a batch of {Count} records ({Bytes} bytes) for set {SetId} as too large ({Reason}); it is split into {Pieces} batches and re-sent. Lower MaxBatchBytes or MaxBatchSize to match the server's limits.")]
    public static partial void BatchSplit(ILogger logger, int count, int bytes, string setId, string reason, int pieces);

    [LoggerMessage(21, LogLevel.Warning, "Chroma dropped a record of {Bytes} bytes for set {SetId}: alone it is over the server's message limit ({Limit} bytes; {Reason}); it is counted as failed.")]
    public static partial void RecordTooLarge(ILogger logger, int bytes, string setId, string limit, string reason);
}
