using System.Diagnostics;
using Microsoft.Extensions.Logging;

namespace Chroma.IntegrationTests.Outage;

[TestFixture]
public sealed class OutageRecoveryTests
{
    private const int Dimension = 64;
    private const int QueueCapacity = 5_000;

    [Test, CancelAfter(120_000)]
    public async Task Log_ServerDownForAWhile_CallsStayFastMemoryBoundedDropsCountedThenQueueDelivered(CancellationToken cancellationToken)
    {
        await using var fixture = await ServerFixture.StartAsync();
        var logs = new RecordingLoggerFactory();
        var dropLogInterval = TimeSpan.FromMilliseconds(250);
        var client = new ChromaClient(new ChromaClientOptions
        {
            Endpoint = fixture.Endpoint,
            QueueCapacity = QueueCapacity,
            MaxBatchSize = 250,
            FlushInterval = TimeSpan.FromMilliseconds(10),
            DropLogInterval = dropLogInterval,
            LoggerFactory = logs,
            Retry = new ChromaRetryOptions { BaseDelay = TimeSpan.FromMilliseconds(20), MaxDelay = TimeSpan.FromMilliseconds(200) },
        });
        await using var clientScope = client;
        var set = client.GetEmbeddingSet(new EmbeddingSetDescriptor("it-outage", "1", "fc", Dimension));
        var vector = new float[Dimension];

        var healthy = LogTimed(set, vector, 2_000);
        await client.FlushAsync(cancellationToken);
        var exportedBeforeOutage = client.Statistics.Exported;

        long maxOutstanding = 0;
        double[] duringOutage = [];
        var outage = Stopwatch.StartNew();
        await fixture.RestartAsync(async () =>
        {
            // 20,000 calls while the server is down: 4x the queue, so it must overflow and count.
            for (var round = 0; round < 10; round++)
            {
                duringOutage = [.. duringOutage, .. LogTimed(set, vector, 2_000)];
                maxOutstanding = Math.Max(maxOutstanding, client.Statistics.Queued);
                await Task.Delay(60, cancellationToken);
            }
        });
        outage.Stop();
        await client.FlushAsync(cancellationToken);

        var stats = client.Statistics;
        var dropWarnings = logs.Messages.Count(m => m.Event.Id == 2 && m.Level == LogLevel.Warning);
        await TestContext.Out.WriteLineAsync(
            $"outage: Log p50 {Percentile(healthy, 0.5):F2} us / p99 {Percentile(healthy, 0.99):F2} us healthy; " +
            $"p50 {Percentile(duringOutage, 0.5):F2} us / p99 {Percentile(duringOutage, 0.99):F2} us during a {outage.Elapsed.TotalSeconds:F1} s outage; " +
            $"max held {maxOutstanding} (bound {QueueCapacity}); dropped {stats.Dropped}; drop warnings {dropWarnings}; exported {stats.Exported}");

        Assert.Multiple(() =>
        {
            Assert.That(exportedBeforeOutage, Is.EqualTo(2_000));
            Assert.That(maxOutstanding, Is.LessThanOrEqualTo(QueueCapacity), "memory stays under the queue bound");
            Assert.That(stats.Dropped, Is.GreaterThanOrEqualTo(20_000 - QueueCapacity), "the overflow is counted");
            Assert.That(stats.Exported + stats.Dropped, Is.EqualTo(22_000), "every record is delivered or counted as dropped");
            Assert.That(stats.Failed, Is.Zero);
            Assert.That(dropWarnings, Is.InRange(1, (int)(outage.Elapsed / dropLogInterval) + 2), "drops are logged, at most once per interval");
        });
    }

    private static double[] LogTimed(EmbeddingSet set, float[] vector, int count)
    {
        var micros = new double[count];
        for (var i = 0; i < count; i++)
        {
            vector[0] = i;
            var start = Stopwatch.GetTimestamp();
            set.LogProduction(vector, predictedClass: "1");
            micros[i] = Stopwatch.GetElapsedTime(start).TotalMicroseconds;
        }

        return micros;
    }

    private static double Percentile(double[] values, double p)
    {
        var sorted = values.Order().ToArray();
        return sorted[Math.Min(sorted.Length - 1, (int)(p * sorted.Length))];
    }
}
