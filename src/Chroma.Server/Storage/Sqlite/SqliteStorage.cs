namespace Chroma.Server.Storage.Sqlite;

/// <summary>Opens the SQLite provider: one <see cref="SqliteDatabase"/> under a record store and a score store.</summary>
internal static class SqliteStorage
{
    /// <summary>
    /// Opens (creating if needed) <c>chroma.db</c> in <paramref name="dataDirectory"/>, checking it first when the last
    /// server did not close it cleanly (<paramref name="integrityCheck"/>, told to <paramref name="logger"/>).
    /// </summary>
    /// <exception cref="DatabaseDamagedException">The database failed the integrity check.</exception>
    public static RecordStorage Open(
        string dataDirectory,
        TimeProvider timeProvider,
        RecordChangeObservers observers,
        IntegrityCheckMode integrityCheck = IntegrityCheckMode.Quick,
        StorageSpace? space = null,
        ILogger? logger = null)
    {
        var database = SqliteDatabase.Open(dataDirectory, timeProvider, integrityCheck, space, logger);
        return new RecordStorage(new SqliteRecordStore(database, observers), new SqliteScoreStore(database), new ProcessLocalCoordination(), database)
        {
            Migration = database.Migration,
        };
    }
}
