using Chroma.Server.Labeling;
using Chroma.Server.Labeling.Internal;
using Chroma.Server.Storage;
using Chroma.Server.Storage.Postgres;
using Chroma.Server.Storage.Postgres.Internal;
using Chroma.Server.Storage.Sqlite;

namespace Chroma.Server.Hosting.Internal;

/// <summary>Opens the storage provider the options name.</summary>
internal static partial class StorageOpener
{
    /// <summary>
    /// Opens (and migrates) the configured database; SQLite keeps its file in <paramref name="dataDirectory"/>. PostgreSQL
    /// is waited for up to <see cref="StorageOptions.StartupTimeout"/>, each failed attempt told to <paramref name="logger"/>.
    /// </summary>
    public static RecordStorage Open(
        string dataDirectory, StorageOptions storage, TimeProvider timeProvider, RecordChangeObservers observers, StorageSpace? space = null, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(storage);
        var localFile = Path.Combine(Path.GetFullPath(dataDirectory), SqliteDatabase.FileName);

        // Looked at before the connection is tried: a server moved from SQLite to PostgreSQL on the same data directory
        // would otherwise hide the file's sets without a word, also when PostgreSQL cannot be reached; a file of labels
        // only (servers before December 5) is carried once the database is open.
        var local = storage.Provider == StorageProvider.Postgres && logger is not null ? LocalReviewCarryOver.Inspect(localFile, logger) : null;
        if (local?.Kind == LocalReviewFileKind.Records)
        {
            StorageLog.SqliteDatabaseNotServed(logger!, localFile);
        }

        var storageOpened = storage.Provider switch
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

        // An upgrade changes the data for good (an older server no longer starts on it): the log says so, once.
        if (logger is not null && storageOpened.Migration.Upgraded)
        {
            var migration = storageOpened.Migration;
            var (provider, database) = storage.Provider == StorageProvider.Postgres
                ? ("PostgreSQL", PostgresConnection.Describe(PostgresConnection.Parse(storage.ConnectionString)))
                : ("SQLite", Path.Combine(Path.GetFullPath(dataDirectory), SqliteDatabase.FileName));
            SchemaMigrated(logger, provider, database, migration.FromVersion, migration.ToVersion, migration.Elapsed.TotalMilliseconds);
        }

        if (local is not null && storageOpened.Reviews is PostgresReviewStore reviews)
        {
            LocalReviewCarryOver.Run(localFile, local, reviews, timeProvider, logger!);
        }

        return storageOpened;
    }

    [LoggerMessage(EventId = 36, Level = LogLevel.Information,
        Message = "{Provider} database {Database} migrated from schema version {FromVersion} to {ToVersion} in {Milliseconds:F0} ms; servers of earlier versions no longer start on it")]
    private static partial void SchemaMigrated(ILogger logger, string provider, string database, int fromVersion, int toVersion, double milliseconds);
}
