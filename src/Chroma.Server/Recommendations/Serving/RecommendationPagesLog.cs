namespace Chroma.Server.Recommendations.Serving;

/// <summary>Log messages of the recommendation pages.</summary>
internal static partial class RecommendationPagesLog
{
    [LoggerMessage(EventId = 340, Level = LogLevel.Warning, Message = "Rankings of '{SetId}' could not be refreshed in the background; the next request computes them")]
    public static partial void RefreshFailed(ILogger logger, Exception exception, string setId);
}
