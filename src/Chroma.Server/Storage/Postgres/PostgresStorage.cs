namespace Chroma.Server.Storage.Postgres;

/// <summary>Opens the PostgreSQL provider: one <see cref="PostgresDatabase"/> under a record store and a score store.</summary>
internal static class PostgresStorage
{
    /// <summary>Connects to <paramref name="connectionString"/> and migrates the schema (once, under a lock).</summary>
    public static RecordStorage Open(string? connectionString, TimeProvider timeProvider, RecordChangeObservers observers)
    {
        var database = PostgresDatabase.Open(connectionString!, timeProvider);
        return new RecordStorage(new PostgresRecordStore(database, observers), new PostgresScoreStore(database), new PostgresReplicaCoordination(database), database);
    }
}
