using Chroma.Server.Storage;
using Chroma.Server.Storage.Postgres;
using Chroma.Server.Storage.Sqlite;

namespace Chroma.Server.Hosting.Internal;

/// <summary>Opens the storage provider the options name.</summary>
internal static class StorageOpener
{
    /// <summary>Opens (and migrates) the configured database; SQLite keeps its file in <paramref name="dataDirectory"/>.</summary>
    public static RecordStorage Open(
        string dataDirectory, StorageOptions storage, TimeProvider timeProvider, RecordChangeObservers observers, StorageSpace? space = null)
    {
        ArgumentNullException.ThrowIfNull(storage);
        return storage.Provider switch
        {
            StorageProvider.Sqlite => SqliteStorage.Open(dataDirectory, timeProvider, observers, storage.IntegrityCheck, space),
            StorageProvider.Postgres => PostgresStorage.Open(storage.ConnectionString, timeProvider, observers),
            _ => throw new ArgumentException($"Chroma:Storage:Provider: unknown provider {storage.Provider}.", nameof(storage)),
        };
    }
}
