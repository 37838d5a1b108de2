using Chroma.Server.Labeling;
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
        var opened = storage.Provider switch
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
        if (opened.Reviews is PostgresReviewStore reviews && logger is not null)
        {
            CarryLocalReviews(dataDirectory, reviews, timeProvider, logger);
        }

        return opened;
    }

    // A server moved from SQLite to PostgreSQL on the same data directory would otherwise hide the file's sets without a
    // word; one that ran on PostgreSQL before December 5 left its labels there, which are carried over (once).
    private static void CarryLocalReviews(string dataDirectory, PostgresReviewStore reviews, TimeProvider timeProvider, ILogger logger) =>
        LocalReviewCarryOver.Run(Path.Combine(Path.GetFullPath(dataDirectory), SqliteDatabase.FileName), reviews, timeProvider, logger);
}
