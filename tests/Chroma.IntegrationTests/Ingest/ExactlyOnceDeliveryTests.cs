using System.Diagnostics;
using Chroma;

namespace Chroma.IntegrationTests.Ingest;

[TestFixture]
public sealed class ExactlyOnceDeliveryTests
{
    private const int Dimension = 128;

    [Test, CancelAfter(180_000)]
    public async Task Log_FourConcurrentProducers_EveryRecordStoredExactlyOnce(CancellationToken cancellationToken)
    {
        const int producers = 4;
        const int perProducer = 25_000;
        await using var fixture = await ServerFixture.StartAsync();
        var client = new ChromaClient(new ChromaClientOptions
        {
            Endpoint = fixture.Endpoint,
            QueueCapacity = producers * perProducer,
            MaxBatchSize = 1_000,
            FlushInterval = TimeSpan.FromMilliseconds(20),
        });
        await using var clientScope = client;
        var set = client.GetEmbeddingSet(new EmbeddingSetDescriptor("it-exactly-once", "1", "fc", Dimension));

        var stopwatch = Stopwatch.StartNew();
        var accepted = await Task.WhenAll(Enumerable.Range(0, producers).Select(p => Task.Run(() =>
        {
            var vector = new float[Dimension];
            var ok = 0;
            for (var i = 0; i < perProducer; i++)
            {
                RecordCodec.Encode(vector, p, i);
                if (set.LogTraining(vector, label: p.ToString(System.Globalization.CultureInfo.InvariantCulture)))
                {
                    ok++;
                }
            }

            return ok;
        }, cancellationToken)));
        await client.FlushAsync(cancellationToken);
        stopwatch.Stop();

        var stats = client.Statistics;
        var rate = producers * perProducer / stopwatch.Elapsed.TotalSeconds;
        await TestContext.Out.WriteLineAsync(
            $"ingest: {producers * perProducer:N0} records of dimension {Dimension} in {stopwatch.Elapsed.TotalSeconds:F2} s = {rate:N0} records/s (4 producers, batch 1000, loopback)");

        Assert.Multiple(() =>
        {
            Assert.That(accepted.Sum(), Is.EqualTo(producers * perProducer), "every Log call was queued");
            Assert.That(stats.Dropped, Is.Zero, "dropped");
            Assert.That(stats.Failed, Is.Zero, "failed");
            Assert.That(stats.Exported, Is.EqualTo(producers * perProducer), "exported");
        });
        var seen = await StoredRecords.ReadAllKeysAsync(client, set.Descriptor.Id, cancellationToken);
        StoredRecords.AssertExactlyOnce(seen, producers, perProducer);
    }

    [Test, CancelAfter(180_000)]
    public async Task Log_ServerRestartedMidStream_NoAcknowledgedRecordLostOrDuplicated(CancellationToken cancellationToken)
    {
        const int total = 20_000;
        await using var fixture = await ServerFixture.StartAsync();
        var client = new ChromaClient(new ChromaClientOptions
        {
            Endpoint = fixture.Endpoint,
            QueueCapacity = total,
            MaxBatchSize = 250,
            FlushInterval = TimeSpan.FromMilliseconds(10),
            Retry = new ChromaRetryOptions { BaseDelay = TimeSpan.FromMilliseconds(20), MaxDelay = TimeSpan.FromMilliseconds(500) },
        });
        await using var clientScope = client;
        var set = client.GetEmbeddingSet(new EmbeddingSetDescriptor("it-restart", "1", "fc", Dimension));

        var vector = new float[Dimension];
        for (var i = 0; i < total; i++)
        {
            if (i == total / 3)
            {
                // Let part of the stream be acknowledged, then restart while batches are in flight.
                await WaitUntilAsync(() => client.Statistics.Exported > 0, cancellationToken);
                await fixture.RestartAsync(() =>
                {
                    // Keep producing while the server is down: the queue must absorb it.
                    for (var j = 0; j < 1_000; j++, i++)
                    {
                        RecordCodec.Encode(vector, 0, i);
                        set.LogTraining(vector, label: "0");
                    }

                    return Task.CompletedTask;
                });
            }

            RecordCodec.Encode(vector, 0, i);
            set.LogTraining(vector, label: "0");
        }

        await client.FlushAsync(cancellationToken);

        var stats = client.Statistics;
        Assert.Multiple(() =>
        {
            Assert.That(stats.Dropped, Is.Zero, "dropped");
            Assert.That(stats.Failed, Is.Zero, "failed");
            Assert.That(stats.Exported, Is.EqualTo(total), "exported");
        });
        var seen = await StoredRecords.ReadAllKeysAsync(client, set.Descriptor.Id, cancellationToken);
        StoredRecords.AssertExactlyOnce(seen, producers: 1, perProducer: total);
    }

    private static async Task WaitUntilAsync(Func<bool> condition, CancellationToken cancellationToken)
    {
        while (!condition())
        {
            await Task.Delay(5, cancellationToken);
        }
    }
}
