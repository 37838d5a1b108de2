namespace Chroma.Server.Hosting.Internal;

/// <summary>Log messages about the store the server runs on.</summary>
internal static partial class StorageLog
{
    [LoggerMessage(EventId = 1, Level = LogLevel.Error,
        Message = "Record change observer {Observer} failed after a commit; the commit stands and the other observers ran")]
    public static partial void ObserverFailed(ILogger logger, string observer, Exception exception);

    [LoggerMessage(EventId = 2, Level = LogLevel.Warning,
        Message = "PostgreSQL does not accept connections yet, or cut one while the schema was prepared (attempt {Attempt}: {Reason}); trying again in {PauseSeconds:F2} s, for up to {StartupTimeout} in all (Chroma:Storage:StartupTimeout)")]
    public static partial void WaitingForDatabase(ILogger logger, int attempt, double pauseSeconds, TimeSpan startupTimeout, string reason);

    [LoggerMessage(EventId = 3, Level = LogLevel.Warning,
        Message = "The data directory holds a SQLite database, {Path}, which this server does not serve: it stores in PostgreSQL (Chroma:Storage:Provider). Its records, labels, reviews and audit trail stay in that file; to move the records, run a server on it with the SQLite provider and `chroma-server export`, then `chroma-server import` into this one (labels, reviews and the audit trail are not carried; see README, Storage providers)")]
    public static partial void SqliteDatabaseNotServed(ILogger logger, string path);
}
