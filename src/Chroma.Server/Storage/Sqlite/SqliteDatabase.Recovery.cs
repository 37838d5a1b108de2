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

        var check = CheckName(mode);
        if (SchemaVersionInFile(databasePath) is > 0 and < FirstVersionWithCleanStopMark)
        {
            // Servers of that schema mostly predate the mark (December 1): its absence says nothing of how they stopped.
            CheckingOlderVersion(logger, databasePath, mode, check);
        }
        else if (!File.Exists(databasePath + "-wal"))
        {
            // A server that crashes leaves its write-ahead log; a clean close removes it. No log and no mark: a file
            // copied in, as a restore from `chroma-server backup` does (probe U, U3: called an unclean stop).
            CheckingCopy(logger, databasePath, mode, check);
        }
        else
        {
            Checking(logger, databasePath, mode, check);
        }

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

    // The schema version after which every server left the clean-stop mark (the mark came within schema 2).
    private const int FirstVersionWithCleanStopMark = 3;

    // The schema version the file records (its schema_version table, read on a read-only connection that changes
    // nothing), or 0 when it cannot be read: a damaged file is then met by the usual warning and the check.
    private static int SchemaVersionInFile(string databasePath)
    {
        try
        {
            return Internal.SqliteSchema.ReadVersion(databasePath);
        }
        catch (Exception ex) when (ex is Microsoft.Data.Sqlite.SqliteException or IOException or UnauthorizedAccessException or InvalidCastException)
        {
            return 0;
        }
    }

    private static string CheckName(IntegrityCheckMode mode) =>
        mode == IntegrityCheckMode.Full ? "a scan of the write-ahead log, then SQLite's integrity_check" : "a scan of the write-ahead log, then SQLite's quick_check";

    [LoggerMessage(EventId = 24, Level = LogLevel.Warning,
        Message = "The last server to use {Path} did not stop cleanly; checking it before serving it: Chroma:Storage:IntegrityCheck={Mode}, {Check}")]
    private static partial void Checking(ILogger logger, string path, IntegrityCheckMode mode, string check);

    [LoggerMessage(EventId = 37, Level = LogLevel.Information,
        Message = "{Path} was last written by a Chroma server from before December 2, which left no mark of a clean stop; checking it once before serving it: Chroma:Storage:IntegrityCheck={Mode}, {Check}")]
    private static partial void CheckingOlderVersion(ILogger logger, string path, IntegrityCheckMode mode, string check);

    [LoggerMessage(EventId = 41, Level = LogLevel.Information,
        Message = "{Path} has no clean-stop mark and no write-ahead log: a copy (a backup restored, or a database from elsewhere), not a crash; checking it once before serving it: Chroma:Storage:IntegrityCheck={Mode}, {Check}")]
    private static partial void CheckingCopy(ILogger logger, string path, IntegrityCheckMode mode, string check);

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
