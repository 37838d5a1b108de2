namespace Chroma.Server.Retention;

/// <summary>Log messages of the retention worker.</summary>
internal static partial class RetentionLog
{
    [LoggerMessage(EventId = 700, Level = LogLevel.Information, Message = "Retention deleted {Count} records of '{SetId}' dataset '{Dataset}' older than {MaxAge}")]
    public static partial void Deleted(ILogger logger, long count, string setId, string dataset, TimeSpan maxAge);

    [LoggerMessage(EventId = 701, Level = LogLevel.Debug, Message = "Retention is being applied by another replica; skipped here")]
    public static partial void RunElsewhere(ILogger logger);

    [LoggerMessage(EventId = 703, Level = LogLevel.Warning,
        Message = "Retention rule {Index} (Chroma:Retention:Rules:{Index}, set '{Set}') has found nothing to delete: no set it covers holds records of dataset '{Dataset}' (their datasets: {Datasets}); if the name is misspelt, the rule never deletes anything. Said once while the server runs")]
    public static partial void NoSuchDataset(ILogger logger, int index, string set, string dataset, string datasets);

    [LoggerMessage(EventId = 702, Level = LogLevel.Warning, Message = "Retention run failed; the next one starts in {IntervalSeconds} s")]
    public static partial void RunFailed(ILogger logger, Exception exception, long intervalSeconds);
}
