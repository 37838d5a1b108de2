namespace Chroma.Server.Web.Internal;

/// <summary>Studio's log messages.</summary>
internal static partial class StudioLog
{
    [LoggerMessage(EventId = 1600, Level = LogLevel.Information, Message = "Studio deleted {Count} records of '{SetId}' after the undo window")]
    public static partial void DeferredDeleteCommitted(ILogger logger, int count, string setId);

    [LoggerMessage(EventId = 1601, Level = LogLevel.Error, Message = "A Studio delete of {Count} records of '{SetId}' could not be committed after its undo window; the records are kept")]
    public static partial void DeferredDeleteFailed(ILogger logger, Exception exception, int count, string setId);

    [LoggerMessage(EventId = 1602, Level = LogLevel.Warning, Message = "Studio could not project the map of '{SetId}' in the background; a page opening it projects it then")]
    public static partial void MapWarmFailed(ILogger logger, Exception exception, string setId);

    [LoggerMessage(EventId = 1603, Level = LogLevel.Warning, Message = "Studio's map warmer could not list the sets to keep their maps projected; it tries again in a second")]
    public static partial void ListingSetsFailed(ILogger logger, Exception exception);
}
