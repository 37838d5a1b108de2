using Chroma.Server.Hosting;

namespace Chroma.IntegrationTests.Ingest;

/// <summary>The server closes idle ingest streams; the client's sender must open a new one without losing a record.</summary>
[TestFixture]
public sealed class IdleStreamReconnectTests
{
    [Test, CancelAfter(120_000)]
    public async Task Log_ServerClosedIdleStreamBetweenBursts_EveryRecordExportedNoneFailed(CancellationToken cancellationToken)
    {
        // Arrange: streams close after 200 ms without a batch.
        var directory = Path.Combine(Path.GetTempPath(), "chroma-it-idle-" + Guid.NewGuid().ToString("N"));
        await using var server = await ChromaServer.StartAsync(
            new ChromaServerOptions { Host = "127.0.0.1", Port = 0, DataDirectory = directory, Ingest = { StreamIdleTimeout = TimeSpan.FromMilliseconds(200) } },
            cancellationToken);
        var client = new ChromaClient(new ChromaClientOptions
        {
            Endpoint = server.Endpoint,
            FlushInterval = TimeSpan.FromMilliseconds(10),
            Retry = new ChromaRetryOptions { BaseDelay = TimeSpan.FromMilliseconds(20), MaxDelay = TimeSpan.FromMilliseconds(200) },
        });
        await using var clientScope = client;
        var set = client.GetEmbeddingSet(new EmbeddingSetDescriptor("it-idle", "1", "fc", 8));
        var vector = new float[8];

        // Act: three bursts, each after the server has closed the idle stream of the one before.
        for (var burst = 0; burst < 3; burst++)
        {
            for (var i = 0; i < 100; i++)
            {
                vector[0] = (burst * 100) + i + 1;
                set.LogTraining(vector, label: "0");
            }

            await client.FlushAsync(cancellationToken);
            await Task.Delay(800, cancellationToken);
        }

        // Assert
        var stats = client.Statistics;
        Assert.Multiple(() =>
        {
            Assert.That(stats.Exported, Is.EqualTo(300));
            Assert.That(stats.Failed, Is.Zero);
            Assert.That(stats.Dropped, Is.Zero);
        });
    }
}
