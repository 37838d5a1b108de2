namespace Chroma.Server.Storage.Sqlite;

/// <summary>
/// After an unclean shutdown (no clean-shutdown marker next to the file) the database is checked before it is opened,
/// and the log says so: an operator waiting on a slow start sees why, which check ran and what it found.
/// </summary>
internal sealed partial class SqliteDatabase
{
    // Throws DatabaseDamagedException when the check finds damage; nothing is changed either way.
    private static void CheckAfterUncleanShutdown(string databasePath, IntegrityCheckMode mode, TimeProvider timeProvider, ILogger logger)
    {
        if (mode == IntegrityCheckMode.Off)
        {
            OpenedUnchecked(logger, databasePath);
            return;
        }

        Checking(logger, databasePath, mode, CheckName(mode));
        var started = timeProvider.GetTimestamp();
        var problems = DatabaseIntegrityCheck.Run(databasePath, mode);
        var seconds = timeProvider.GetElapsedTime(started).TotalSeconds;
        if (problems.Count > 0)
        {
            CheckFoundDamage(logger, mode, seconds);
            throw new DatabaseDamagedException(DatabaseIntegrityCheck.Describe(databasePath, problems));
        }

        CheckPassed(logger, mode, seconds);
    }

    private static string CheckName(IntegrityCheckMode mode) =>
        mode == IntegrityCheckMode.Full ? "a scan of the write-ahead log, then SQLite's integrity_check" : "a scan of the write-ahead log, then SQLite's quick_check";

    [LoggerMessage(EventId = 24, Level = LogLevel.Warning,
        Message = "The last server to use {Path} did not stop cleanly; checking it before serving it: Chroma:Storage:IntegrityCheck={Mode}, {Check}")]
    private static partial void Checking(ILogger logger, string path, IntegrityCheckMode mode, string check);

    [LoggerMessage(EventId = 25, Level = LogLevel.Information,
        Message = "The {Mode} integrity check found no damage in {Seconds:F1} s; the database is served")]
    private static partial void CheckPassed(ILogger logger, IntegrityCheckMode mode, double seconds);

    [LoggerMessage(EventId = 26, Level = LogLevel.Error,
        Message = "The {Mode} integrity check found damage in {Seconds:F1} s; the database is not served and nothing was changed")]
    private static partial void CheckFoundDamage(ILogger logger, IntegrityCheckMode mode, double seconds);

    [LoggerMessage(EventId = 27, Level = LogLevel.Warning,
        Message = "The last server to use {Path} did not stop cleanly; it is opened unchecked because Chroma:Storage:IntegrityCheck is Off")]
    private static partial void OpenedUnchecked(ILogger logger, string path);
}
