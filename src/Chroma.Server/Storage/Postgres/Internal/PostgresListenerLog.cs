namespace Chroma.Server.Storage.Postgres.Internal;

/// <summary>Log messages of the listener for other servers' commits.</summary>
internal static partial class PostgresListenerLog
{
    [LoggerMessage(EventId = 360, Level = LogLevel.Information, Message = "Listening for record changes of other servers on channel {Channel}")]
    public static partial void Listening(ILogger logger, string channel);

    [LoggerMessage(EventId = 361, Level = LogLevel.Warning,
        Message = "The connection listening for other servers' commits failed; reconnecting in {Delay} (indexes poll meanwhile)")]
    public static partial void ListenFailed(ILogger logger, TimeSpan delay, Exception exception);

    [LoggerMessage(EventId = 362, Level = LogLevel.Warning, Message = "A notice on channel {Channel} could not be handled (the next poll picks the change up)")]
    public static partial void SinkFailed(ILogger logger, string channel, Exception exception);
}
