using Chroma.Server.Storage;
using Chroma.Server.Storage.Postgres;
using Chroma.Server.Tests.TestSupport;
using Chroma.Testing.Postgres;

namespace Chroma.Server.Tests.Storage;

/// <summary>
/// A new empty database on the test PostgreSQL (<see cref="TestPostgres"/>), dropped on dispose. Without a
/// PostgreSQL the test is skipped, except under <c>CI=true</c>, where it fails.
/// </summary>
internal sealed class PostgresTestDatabase : ITestDatabase
{
    private PostgresTestDatabase(string connectionString) => ConnectionString = connectionString;

    public string ConnectionString { get; }

    public TempDirectory Directory { get; } = new();

    /// <summary>A new database, or the test is skipped (failed under CI) saying why PostgreSQL is missing.</summary>
    public static async Task<PostgresTestDatabase> CreateAsync()
    {
        var (connectionString, reason) = await TestPostgres.CreateDatabaseAsync().WaitAsync(TimeSpan.FromMinutes(4));
        if (connectionString is null)
        {
            TestPostgres.SkipOrFail(reason);
        }

        return new PostgresTestDatabase(connectionString!);
    }

    public RecordStorage Open(TimeProvider clock, RecordChangeObservers observers) =>
        PostgresStorage.Open(ConnectionString, clock, observers);

    public void Dispose()
    {
        TestPostgres.DropDatabase(ConnectionString);
        Directory.Dispose();
    }
}
