using Chroma.Server.Storage;
using Chroma.Server.Storage.Sqlite;
using Chroma.Server.Tests.TestSupport;

namespace Chroma.Server.Tests.Storage;

/// <summary>A SQLite file in a new temp folder.</summary>
internal sealed class SqliteTestDatabase : ITestDatabase
{
    public TempDirectory Directory { get; } = new();

    public RecordStorage Open(TimeProvider clock, RecordChangeObservers observers) =>
        SqliteStorage.Open(Directory.Path, clock, observers);

    public void Dispose() => Directory.Dispose();
}
