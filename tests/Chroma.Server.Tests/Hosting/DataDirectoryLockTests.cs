using Chroma.Server.Hosting;
using Chroma.Server.Tests.TestSupport;

namespace Chroma.Server.Tests.Hosting;

/// <summary>One server per data directory (a start that fails on its address before reading the database: StartFailureTests).</summary>
[TestFixture]
public sealed class DataDirectoryLockTests
{
    [Test, CancelAfter(60_000)]
    public async Task StartAsync_SecondServerOnSameDataDirectory_DataDirectoryFailureNamingIt()
    {
        // Arrange
        using var directory = new TempDirectory();
        var first = await ChromaServer.StartAsync(new ChromaServerOptions { Host = "127.0.0.1", Port = 0, DataDirectory = directory.Path, Web = { Enabled = false } });

        // Act
        ChromaServerStartException? refused;
        try
        {
            refused = Assert.ThrowsAsync<ChromaServerStartException>(() =>
                ChromaServer.StartAsync(new ChromaServerOptions { Host = "127.0.0.1", Port = 0, DataDirectory = directory.Path, Web = { Enabled = false } }));
        }
        finally
        {
            await first.DisposeAsync();
        }

        // Assert: refused while the first ran, and the directory is free again once it stopped.
        Assert.Multiple(() =>
        {
            Assert.That(refused!.Failure, Is.EqualTo(ChromaServerStartFailure.DataDirectory));
            Assert.That(refused.ExitCode, Is.EqualTo(9));
            Assert.That(refused.Message, Does.Contain(directory.Path).And.Contain("another Chroma server"));
        });
        await using var again = await ChromaServer.StartAsync(new ChromaServerOptions { Host = "127.0.0.1", Port = 0, DataDirectory = directory.Path, Web = { Enabled = false } });
        Assert.That(again.Port, Is.GreaterThan(0));
    }
}
