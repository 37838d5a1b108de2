using Chroma.Protocol.V1;
using Chroma.Server.Hosting;
using Chroma.Server.Storage;
using Chroma.Server.Tests.TestSupport;

namespace Chroma.Server.Tests.Hosting;

[TestFixture]
public sealed class ChromaServerTests
{
    [Test, CancelAfter(30_000)]
    public async Task StartAsync_PortZero_ExposesPickedPortInEndpoint()
    {
        // Arrange / Act
        await using var server = await RunningServer.StartAsync();

        // Assert
        Assert.Multiple(() =>
        {
            Assert.That(server.Server.Port, Is.Positive);
            Assert.That(server.Server.Endpoint, Is.EqualTo(new Uri($"http://127.0.0.1:{server.Server.Port}/")));
            Assert.That(server.Server.Services.GetService(typeof(IRecordStore)), Is.InstanceOf<Chroma.Server.Storage.Sqlite.SqliteRecordStore>());
        });
    }

    [Test, CancelAfter(30_000)]
    public async Task DisposeAsync_ThenStartOnSamePortAndDirectory_KeepsDataAndIndexes()
    {
        // Arrange
        using var directory = new TempDirectory();
        var set = Records.Set(model: "restart");
        var records = Records.Sequence(12);
        int port;
        await using (var first = await RunningServer.StartAsync(directory.Path))
        {
            port = first.Server.Port;
            await first.LogAsync(Records.Batch(set, records));
        }

        // Act
        await using var second = await RunningServer.StartAsync(directory.Path, port: port);
        var count = await second.Query.CountRecordsAsync(new CountRecordsRequest { SetId = Records.SetId(set) });
        var nearest = await second.Query.FindNearestAsync(new FindNearestRequest { SetId = Records.SetId(set), Embedding = new Vector { Values = { 11, 0, 0, 0 } }, K = 1 });
        var resent = (await second.LogAsync(Records.Batch(set, records))).Single();

        // Assert
        Assert.Multiple(() =>
        {
            Assert.That(second.Server.Port, Is.EqualTo(port));
            Assert.That(count.Count, Is.EqualTo(12));
            Assert.That(nearest.Neighbors.Single().Record.Record.Id, Is.EqualTo(records[11].Id));
            Assert.That(resent.Duplicates, Is.EqualTo(12));
        });
    }

    [Test, CancelAfter(30_000)]
    public async Task DisposeAsync_OpenIngestStream_EndsItUnavailableAndReleasesDatabasePromptly()
    {
        // Arrange: a client stream left open, as a long-lived SDK client keeps it.
        using var directory = new TempDirectory();
        await using var server = await RunningServer.StartAsync(directory.Path);
        using var call = server.Ingest.Log();
        await call.RequestStream.WriteAsync(Records.Batch(Records.Set(), Records.Sequence(1)));
        Assert.That(await call.ResponseStream.MoveNext(CancellationToken.None), Is.True);

        // Act: like the SDK, the client keeps reading acks while the server goes down.
        var nextAck = call.ResponseStream.MoveNext(CancellationToken.None);
        await server.Server.DisposeAsync();
        var ended = Assert.ThrowsAsync<Grpc.Core.RpcException>(async () => await nextAck);

        // Assert: the WAL is checkpointed and removed when the last connection closes.
        Assert.Multiple(() =>
        {
            // Unavailable when the trailers make it out; when Kestrel's connection shutdown wins the race (seen on a
            // loaded machine) the client reads Internal. The SDK retries both and re-sends unacknowledged batches.
            Assert.That(ended!.StatusCode, Is.AnyOf(Grpc.Core.StatusCode.Unavailable, Grpc.Core.StatusCode.Internal), "the client is told to re-send");
            Assert.That(File.Exists(Path.Combine(directory.Path, "chroma.db-wal")), Is.False);
        });
    }

    [Test]
    public void StartAsync_BadOptions_ThrowsBeforeBinding()
    {
        // Act
        var ex = Assert.ThrowsAsync<ChromaServerStartException>(() => ChromaServer.StartAsync(new ChromaServerOptions { Port = -5 }));

        // Assert
        Assert.That(ex!.Message, Is.EqualTo("Chroma:Port (Chroma__Port) must be between 0 and 65535 (got -5)"));
        Assert.That(ex.Failure, Is.EqualTo(ChromaServerStartFailure.Setting));
    }
}
