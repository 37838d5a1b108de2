using Chroma.Server.Indexing.Internal;

namespace Chroma.Server.Tests.Indexing;

/// <summary>A fixture whose tests build indexes on two index threads of their own, started once for the fixture.</summary>
public abstract class IndexBuildThreadsFixture
{
    /// <summary>Gets the fixture's index threads.</summary>
    private protected IndexBuildThreads Threads { get; private set; } = null!;

    /// <summary>Gets build settings on <see cref="Threads"/>, every other setting at its default.</summary>
    private protected IndexBuildSettings Settings { get; private set; } = null!;

    [OneTimeSetUp]
    public void StartThreads()
    {
        Threads = new IndexBuildThreads(2);
        Settings = new IndexBuildSettings { Threads = Threads };
    }

    [OneTimeTearDown]
    public void StopThreads() => Threads.Dispose();
}
