using System.Net;
using System.Net.Sockets;
using Chroma.Server.Hosting;
using Chroma.Server.Storage.Sqlite;
using Chroma.Server.Tests.TestSupport;

namespace Chroma.Server.Tests.Hosting;

/// <summary>One server per data directory, and a start that fails on its address before reading the database.</summary>
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

    [Test, CancelAfter(30_000)]
    public void StartAsync_PortTaken_FailsBeforeTheDatabaseIsOpened()
    {
        // Arrange
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        using var directory = new TempDirectory();

        // Act
        var ex = Assert.ThrowsAsync<ChromaServerStartException>(() =>
            ChromaServer.StartAsync(new ChromaServerOptions { Host = "127.0.0.1", Port = port, DataDirectory = directory.Path }));

        // Assert
        Assert.Multiple(() =>
        {
            Assert.That(ex!.Failure, Is.EqualTo(ChromaServerStartFailure.Address));
            Assert.That(ex.Message, Does.Contain("Chroma__Port"));
            Assert.That(File.Exists(Path.Combine(directory.Path, SqliteRecordStore.FileName)), Is.False, "the database is not opened (nor its indexes built) for a server that cannot listen");
        });
    }
}
