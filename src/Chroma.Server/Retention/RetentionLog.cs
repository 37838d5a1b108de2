namespace Chroma.Server.Retention;

/// <summary>Log messages of the retention worker.</summary>
internal static partial class RetentionLog
{
    [LoggerMessage(EventId = 700, Level = LogLevel.Information, Message = "Retention deleted {Count} records of '{SetId}' dataset '{Dataset}' older than {MaxAge}")]
    public static partial void Deleted(ILogger logger, long count, string setId, string dataset, TimeSpan maxAge);

    [LoggerMessage(EventId = 701, Level = LogLevel.Debug, Message = "Retention is being applied by another replica; skipped here")]
    public static partial void RunElsewhere(ILogger logger);

    [LoggerMessage(EventId = 702, Level = LogLevel.Warning, Message = "Retention run failed; the next one starts in {IntervalSeconds} s")]
    public static partial void RunFailed(ILogger logger, Exception exception, long intervalSeconds);
}
