using Chroma.Server.Storage;
using Chroma.Server.Tests.TestSupport;

namespace Chroma.Server.Tests.Storage;

/// <summary>An empty database of one provider for one test fixture, dropped on dispose.</summary>
internal interface ITestDatabase : IDisposable
{
    /// <summary>Gets a temp folder owned by the database (SQLite keeps its file there).</summary>
    TempDirectory Directory { get; }

    /// <summary>Opens the stores on the database (again after a dispose of the previous ones: a restart).</summary>
    RecordStorage Open(TimeProvider clock, RecordChangeObservers observers);
}
