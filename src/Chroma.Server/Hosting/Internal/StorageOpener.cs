using Chroma.Server.Storage;
using Chroma.Server.Storage.Postgres;
using Chroma.Server.Storage.Sqlite;

namespace Chroma.Server.Hosting.Internal;

/// <summary>Opens the storage provider the options name.</summary>
internal static class StorageOpener
{
    /// <summary>
    /// Opens (and migrates) the configured database; SQLite keeps its file in <paramref name="dataDirectory"/>. PostgreSQL
    /// is waited for up to <see cref="StorageOptions.StartupTimeout"/>, each failed attempt told to <paramref name="logger"/>.
    /// </summary>
    public static RecordStorage Open(
        string dataDirectory, StorageOptions storage, TimeProvider timeProvider, RecordChangeObservers observers, StorageSpace? space = null, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(storage);
        if (storage.Provider == StorageProvider.Postgres && logger is not null)
        {
            WarnOfSqliteDatabase(dataDirectory, logger);
        }

        return storage.Provider switch
        {
            StorageProvider.Sqlite => SqliteStorage.Open(dataDirectory, timeProvider, observers, storage.IntegrityCheck, space, logger),
            StorageProvider.Postgres => PostgresStorage.Open(
                storage.ConnectionString,
                timeProvider,
                observers,
                storage.StartupTimeout,
                logger is null ? null : (attempt, reason, pause) => StorageLog.WaitingForDatabase(logger, attempt, pause.TotalSeconds, storage.StartupTimeout, reason)),
            _ => throw new ArgumentException($"Chroma:Storage:Provider: unknown provider {storage.Provider}.", nameof(storage)),
        };
    }

    // A server moved from SQLite to PostgreSQL on the same data directory would otherwise hide the file's sets without a word.
    private static void WarnOfSqliteDatabase(string dataDirectory, ILogger logger)
    {
        var sqlite = Path.Combine(Path.GetFullPath(dataDirectory), SqliteDatabase.FileName);
        if (File.Exists(sqlite))
        {
            StorageLog.SqliteDatabaseNotServed(logger, sqlite);
        }
    }
}
