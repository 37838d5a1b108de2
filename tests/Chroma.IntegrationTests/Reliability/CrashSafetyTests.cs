using System.Globalization;
using Chroma.IntegrationTests.Ingest;

namespace Chroma.IntegrationTests.Reliability;

/// <summary>
/// Kills the server process with SIGKILL at random points while a client streams, restarts it on the same data
/// directory, and checks that in the end every record is stored exactly once. CI runs a short version; the long one
/// (20+ kills) runs with <c>CHROMA_KILLS=20</c> (see tests/Chroma.IntegrationTests/Reliability/README.md).
/// </summary>
[TestFixture]
[Category("crash")]
public sealed class CrashSafetyTests
{
    private const int Dimension = 32;

    [Test, CancelAfter(600_000)]
    public async Task Log_ServerKilledRepeatedlyMidStream_NoRecordLostOrStoredTwice(CancellationToken cancellationToken)
    {
        var kills = int.TryParse(Environment.GetEnvironmentVariable("CHROMA_KILLS"), CultureInfo.InvariantCulture, out var k) ? k : 3;
        var random = new Random(20261123);
        var dataDirectory = Path.Combine(Path.GetTempPath(), "chroma-kill-" + Guid.NewGuid().ToString("N"));
        await using var server = new ServerProcess(dataDirectory, ServerProcess.FreePort());
        await server.StartAsync(cancellationToken);

        var client = new ChromaClient(new ChromaClientOptions
        {
            Endpoint = server.Endpoint,
            QueueCapacity = 1_000_000,
            MaxBatchSize = 200,
            FlushInterval = TimeSpan.FromMilliseconds(5),
            DrainTimeout = TimeSpan.FromSeconds(30),
            Retry = new ChromaRetryOptions { BaseDelay = TimeSpan.FromMilliseconds(20), MaxDelay = TimeSpan.FromMilliseconds(250) },
        });
        await using var clientScope = client;
        var set = client.GetEmbeddingSet(new EmbeddingSetDescriptor("it-kill", "1", "fc", Dimension));

        using var stopProducing = new CancellationTokenSource();
        var producer = Task.Run(async () =>
        {
            var vector = new float[Dimension];
            var produced = 0;
            while (!stopProducing.IsCancellationRequested)
            {
                for (var i = 0; i < 100; i++, produced++)
                {
                    RecordCodec.Encode(vector, 0, produced);
                    set.LogTraining(vector, label: "0");
                }

                await Task.Delay(10, CancellationToken.None);
            }

            return produced;
        }, cancellationToken);

        var acknowledgedAtKill = new List<long>();
        for (var kill = 0; kill < kills; kill++)
        {
            // Kill mid-stream: after the restarted server has acknowledged a random number of further records.
            var progress = (acknowledgedAtKill.Count == 0 ? 0 : acknowledgedAtKill[^1]) + random.Next(100, 3_000);
            await WaitUntilAsync(() => client.Statistics.Exported >= progress, cancellationToken);
            acknowledgedAtKill.Add(client.Statistics.Exported);
            await server.KillAsync();
            await Task.Delay(random.Next(0, 300), cancellationToken);
            await server.StartAsync(cancellationToken);
        }

        await stopProducing.CancelAsync();
        var total = await producer;
        await client.FlushAsync(cancellationToken);

        var stats = client.Statistics;
        await TestContext.Out.WriteLineAsync(
            $"kill test: {kills} SIGKILLs, {total:N0} records, acknowledged before each kill: {string.Join(", ", acknowledgedAtKill)}; exported {stats.Exported:N0}, failed {stats.Failed}, dropped {stats.Dropped}");
        Assert.Multiple(() =>
        {
            Assert.That(stats.Dropped, Is.Zero, "dropped");
            Assert.That(stats.Failed, Is.Zero, "failed");
            Assert.That(stats.Exported, Is.EqualTo(total), "acknowledged");
            Assert.That(acknowledgedAtKill, Is.Ordered, "acknowledged counts only grow");
        });
        var seen = await StoredRecords.ReadAllKeysAsync(client, set.Descriptor.Id, cancellationToken);
        StoredRecords.AssertExactlyOnce(seen, producers: 1, perProducer: total);

        await server.KillAsync();
        TryDelete(dataDirectory);
    }

    private static async Task WaitUntilAsync(Func<bool> condition, CancellationToken cancellationToken)
    {
        while (!condition())
        {
            await Task.Delay(5, cancellationToken);
        }
    }

    private static void TryDelete(string directory)
    {
        try
        {
            Directory.Delete(directory, recursive: true);
        }
        catch (IOException)
        {
            // Leave the temporary folder behind.
        }
    }
}
