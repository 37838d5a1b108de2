using Chroma.Server.Storage;
using Chroma.Server.Storage.Postgres;
using Chroma.Server.Storage.Sqlite;

namespace Chroma.Server.Hosting.Internal;

/// <summary>Opens the storage provider the options name.</summary>
internal static class StorageOpener
{
    /// <summary>Opens (and migrates) the configured database.</summary>
    public static RecordStorage Open(ChromaServerOptions options, TimeProvider timeProvider, RecordChangeObservers observers, StorageSpace? space = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        return options.Storage.Provider switch
        {
            StorageProvider.Sqlite => SqliteStorage.Open(options.DataDirectory, timeProvider, observers, options.IntegrityCheck, space),
            StorageProvider.Postgres => PostgresStorage.Open(options.Storage.ConnectionString, timeProvider, observers),
            _ => throw new ArgumentException($"ChromaServerOptions.Storage.Provider: unknown provider {options.Storage.Provider}.", nameof(options)),
        };
    }
}
