using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Chroma;

namespace Chroma.IntegrationTests.Outage;

[TestFixture]
public sealed class DeadServerTests
{
    [Test, CancelAfter(60_000)]
    public async Task Log_ServerNeverReachable_AppKeepsRunningAndEveryRecordIsCounted(CancellationToken cancellationToken)
    {
        const int attempts = 5_000;
        var client = new ChromaClient(new ChromaClientOptions
        {
            Endpoint = new Uri($"http://127.0.0.1:{UnusedPort()}"),
            QueueCapacity = 1_000,
            MaxBatchSize = 100,
            FlushInterval = TimeSpan.FromMilliseconds(10),
            DrainTimeout = TimeSpan.FromMilliseconds(500),
            Retry = new ChromaRetryOptions { BaseDelay = TimeSpan.FromMilliseconds(10), MaxDelay = TimeSpan.FromMilliseconds(100) },
        });
        var set = client.GetEmbeddingSet(new EmbeddingSetDescriptor("it-dead", "1", "fc", 16));
        var vector = new float[16];

        var stopwatch = Stopwatch.StartNew();
        var queued = 0;
        for (var i = 0; i < attempts; i++)
        {
            vector[0] = i;
            if (set.LogProduction(vector, predictedClass: "1"))
            {
                queued++;
            }
        }

        stopwatch.Stop();
        await client.DisposeAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(20), cancellationToken);

        var stats = client.Statistics;
        await TestContext.Out.WriteLineAsync(
            $"dead server: {attempts} Log calls in {stopwatch.Elapsed.TotalMilliseconds:F1} ms; queued {queued}, dropped {stats.Dropped}, failed {stats.Failed}");
        Assert.Multiple(() =>
        {
            Assert.That(stats.Exported, Is.Zero, "nothing can be exported");
            Assert.That(queued, Is.LessThanOrEqualTo(attempts));
            Assert.That(stats.Dropped + stats.Failed, Is.EqualTo(attempts), "every record is accounted for as dropped or failed");
            Assert.That(stats.Dropped, Is.GreaterThanOrEqualTo(attempts - 1_000 - 100), "the bounded queue overflowed and counted it");
        });
    }

    private static int UnusedPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
