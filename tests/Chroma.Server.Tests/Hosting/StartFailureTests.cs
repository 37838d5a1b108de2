using Chroma.Server.Storage.Sqlite;
using System.Net;
using System.Net.Sockets;
using Chroma.Server.Hosting;
using Chroma.Server.Storage;
using Chroma.Server.Tests.TestSupport;
using Microsoft.Extensions.Options;

namespace Chroma.Server.Tests.Hosting;

[TestFixture]
public sealed class StartFailureTests
{
    [TestCase(IntegrityCheckMode.Quick, TestName = "StartAsync_GarbageDatabaseFile_DatabaseFailureNamingTheFile")]
    [TestCase(IntegrityCheckMode.Off, TestName = "StartAsync_GarbageDatabaseFileWithCheckOff_DatabaseFailureNamingTheFile")]
    public void StartAsync_GarbageDatabaseFile_DatabaseFailureNamingTheFile(IntegrityCheckMode check)
    {
        // Arrange
        using var directory = new TempDirectory();
        var database = Path.Combine(directory.Path, SqliteRecordStore.FileName);
        File.WriteAllText(database, "this is not a SQLite database, it only has the name of one; " + new string('x', 4096));
        var options = new ChromaServerOptions { Host = "127.0.0.1", Port = 0, DataDirectory = directory.Path, Storage = { IntegrityCheck = check } };

        // Act
        var ex = Assert.ThrowsAsync<ChromaServerStartException>(() => ChromaServer.StartAsync(options));

        // Assert
        Assert.Multiple(() =>
        {
            Assert.That(ex!.Failure, Is.EqualTo(ChromaServerStartFailure.Database));
            Assert.That(ex.ExitCode, Is.EqualTo(7));
            Assert.That(ex.Message, Does.Contain(database));
            Assert.That(ex.Message, Does.Not.Contain("\n"));
        });
    }

    [Test, CancelAfter(30_000)]
    public void StartAsync_PortTaken_AddressFailureNamingThePort()
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
        Assert.That(ex!.Failure, Is.EqualTo(ChromaServerStartFailure.Address));
        Assert.That(ex.Message, Does.Contain($"127.0.0.1:{port}").And.Contain("Chroma__Port"));
        Assert.That(File.Exists(Path.Combine(directory.Path, Chroma.Server.Storage.Sqlite.SqliteRecordStore.FileName)), Is.False, "the database is not opened (nor its indexes built) for a server that cannot listen");
    }

    [Test, CancelAfter(30_000)]
    public void StartAsync_WebPortTaken_AddressFailureNamingTheWebPortAndItsSetting()
    {
        // Arrange: the gRPC port free, the web app's port taken by another listener.
        using var taken = new TcpListener(IPAddress.Loopback, 0);
        taken.Start();
        var webPort = ((IPEndPoint)taken.LocalEndpoint).Port;
        int grpcPort;
        using (var probe = new TcpListener(IPAddress.Loopback, 0))
        {
            probe.Start();
            grpcPort = ((IPEndPoint)probe.LocalEndpoint).Port;
        }

        using var directory = new TempDirectory();

        // Act
        var ex = Assert.ThrowsAsync<ChromaServerStartException>(() =>
            ChromaServer.StartAsync(new ChromaServerOptions { Host = "127.0.0.1", Port = grpcPort, DataDirectory = directory.Path, Web = { Port = webPort } }));

        // Assert
        Assert.Multiple(() =>
        {
            Assert.That(ex!.Failure, Is.EqualTo(ChromaServerStartFailure.Address));
            Assert.That(ex.Message, Does.Contain($"127.0.0.1:{webPort}"));
            Assert.That(ex.Message, Does.Contain("Chroma__Web__Port"));
            Assert.That(ex.Message, Does.Not.Contain($":{grpcPort}"), "the gRPC port was free: naming it would send the user to the wrong setting");
        });
    }

    [Test]
    public void StartAsync_DataDirectoryIsAFile_DataDirectoryFailureNamingIt()
    {
        // Arrange
        using var directory = new TempDirectory();
        var notAFolder = Path.Combine(directory.Path, "plain-file");
        File.WriteAllText(notAFolder, "x");

        // Act
        var ex = Assert.ThrowsAsync<ChromaServerStartException>(() =>
            ChromaServer.StartAsync(new ChromaServerOptions { Host = "127.0.0.1", Port = 0, DataDirectory = notAFolder }));

        // Assert
        Assert.That(ex!.Failure, Is.EqualTo(ChromaServerStartFailure.DataDirectory));
        Assert.That(ex.Message, Does.Contain(notAFolder).And.Contain("is a file, not a directory").And.Contain("Chroma:DataDirectory (Chroma__DataDirectory)"));
    }

    [Test]
    public void StartAsync_DataDirectoryUnderAFile_NamesTheFileInTheWayAndTheSetting()
    {
        // Arrange
        using var directory = new TempDirectory();
        var file = Path.Combine(directory.Path, "plain-file");
        File.WriteAllText(file, "x");

        // Act
        var ex = Assert.ThrowsAsync<ChromaServerStartException>(() =>
            ChromaServer.StartAsync(new ChromaServerOptions { Host = "127.0.0.1", Port = 0, DataDirectory = Path.Combine(file, "data") }));

        // Assert
        Assert.That(ex!.Failure, Is.EqualTo(ChromaServerStartFailure.DataDirectory));
        Assert.That(ex.Message, Does.Contain($"\"{file}\" is a file, not a directory").And.Contain("Chroma:DataDirectory (Chroma__DataDirectory)"));
    }

    [Test]
    public void StartAsync_DataDirectoryCannotBeCreated_SaysSoNamingTheSetting()
    {
        // Arrange: /proc takes no new directories, not even from root (the server and its tests run on Linux).
        // Act
        var ex = Assert.ThrowsAsync<ChromaServerStartException>(() =>
            ChromaServer.StartAsync(new ChromaServerOptions { Host = "127.0.0.1", Port = 0, DataDirectory = "/proc/chroma" }));

        // Assert
        Assert.That(ex!.Failure, Is.EqualTo(ChromaServerStartFailure.DataDirectory));
        Assert.That(ex.Message, Does.StartWith("the data directory \"/proc/chroma\" could not be created (").And.Contain("Chroma:DataDirectory (Chroma__DataDirectory)"));
    }

    [Test, CancelAfter(30_000)]
    public async Task StartAsync_ShutdownTimeoutSet_HostUsesIt()
    {
        // Arrange + Act
        await using var server = await RunningServer.StartAsync(o => o.ShutdownTimeout = TimeSpan.FromSeconds(3));

        // Assert: the host's stop (streams told to re-send, commits finished) is bounded by the setting.
        var host = (IOptions<Microsoft.Extensions.Hosting.HostOptions>)server.Server.Services.GetService(typeof(IOptions<Microsoft.Extensions.Hosting.HostOptions>))!;
        Assert.That(host.Value.ShutdownTimeout, Is.EqualTo(TimeSpan.FromSeconds(3)));
    }
}
