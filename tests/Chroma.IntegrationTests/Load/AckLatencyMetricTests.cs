using Chroma;

namespace Chroma.IntegrationTests.Load;

[TestFixture]
public sealed class AckLatencyMetricTests
{
    [Test, CancelAfter(60_000)]
    public async Task Log_BatchesAckedByRealServer_AckLatencyHistogramRecordsEachAck(CancellationToken cancellationToken)
    {
        // Arrange
        await using var server = await ServerFixture.StartAsync();
        using var latency = new AckLatencyRecorder();
        await using var client = new ChromaClient(new ChromaClientOptions { Endpoint = server.Endpoint, MaxBatchSize = 10, FlushInterval = TimeSpan.FromMilliseconds(10) });
        var set = client.GetEmbeddingSet(new EmbeddingSetDescriptor("it-latency", "1", "fc", 4));

        // Act: 50 records in batches of 10.
        for (var i = 0; i < 50; i++)
        {
            Assert.That(set.LogTraining([i, 0, 0, 1]), Is.True);
        }

        await client.FlushAsync(cancellationToken);

        // Assert: at least one value per batch, each a real (positive, sub-minute) duration.
        Assert.Multiple(() =>
        {
            Assert.That(latency.Count, Is.GreaterThanOrEqualTo(5));
            Assert.That(latency.Percentile(0), Is.GreaterThan(0));
            Assert.That(latency.Percentile(100), Is.LessThan(60_000));
        });
    }
}
