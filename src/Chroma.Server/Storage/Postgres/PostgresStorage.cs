namespace Chroma.Server.Storage.Postgres;

/// <summary>Opens the PostgreSQL provider: one <see cref="PostgresDatabase"/> under a record store and a score store.</summary>
internal static class PostgresStorage
{
    /// <summary>
    /// Connects to <paramref name="connectionString"/> (waiting up to <paramref name="startupTimeout"/> for PostgreSQL to
    /// accept connections) and migrates the schema (once, under a lock).
    /// </summary>
    public static RecordStorage Open(
        string? connectionString, TimeProvider timeProvider, RecordChangeObservers observers, TimeSpan startupTimeout = default, Action<int, string, TimeSpan>? waiting = null)
    {
        var database = PostgresDatabase.Open(connectionString!, timeProvider, startupTimeout, waiting);
        return new RecordStorage(
            new PostgresRecordStore(database, observers), new PostgresScoreStore(database), new PostgresReplicaCoordination(database), database, new Labeling.PostgresReviewStore(database),
            new Security.PostgresSignOutStore(database))
        {
            Migration = database.Migration,
        };
    }
}
