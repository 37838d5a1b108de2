namespace Chroma.Server.Storage.Sqlite;

/// <summary>Opens the SQLite provider: one <see cref="SqliteDatabase"/> under a record store and a score store.</summary>
internal static class SqliteStorage
{
    /// <summary>Opens (creating if needed) <c>chroma.db</c> in <paramref name="dataDirectory"/>.</summary>
    public static RecordStorage Open(string dataDirectory, TimeProvider timeProvider, RecordChangeObservers observers)
    {
        var database = SqliteDatabase.Open(dataDirectory, timeProvider);
        return new RecordStorage(new SqliteRecordStore(database, observers), new SqliteScoreStore(database), database);
    }
}
