using Chroma.IntegrationTests.Outage;
using Microsoft.Extensions.Logging;

namespace Chroma.IntegrationTests.Ingest;

/// <summary>
/// Records a real server rejects (a metadata value over its 1,024-character limit, as an embedding generator with a raised
/// MaxTextLength produces): each costs only itself, and a batch of them costs one rejection and one re-send.
/// </summary>
[TestFixture]
public sealed class RejectedRecordsTests
{
    private const int Dimension = 8;

    [Test, CancelAfter(60_000)]
    public async Task Log_BatchesWithManyBadRecords_EachBatchRejectedOnceBadRecordsFailedTheRestStored(CancellationToken cancellationToken)
    {
        // Arrange: one full batch of 200 with every third record bad, and a batch of 100 bad records in another set.
        const int total = 200;
        const int allBad = 100;
        await using var fixture = await ServerFixture.StartAsync();
        var logs = new RecordingLoggerFactory();
        var client = new ChromaClient(new ChromaClientOptions
        {
            Endpoint = fixture.Endpoint,
            MaxBatchSize = total,
            FlushInterval = TimeSpan.FromHours(1),
            LoggerFactory = logs,
        });
        await using var clientScope = client;
        var mixed = client.GetEmbeddingSet(new EmbeddingSetDescriptor("it-rejected", "1", "mixed", Dimension));
        var bad = client.GetEmbeddingSet(new EmbeddingSetDescriptor("it-rejected", "1", "bad", Dimension));
        var tooLong = new Dictionary<string, string> { ["text"] = new string('t', 1500) };
        var fine = new Dictionary<string, string> { ["text"] = "short" };
        var vector = new float[Dimension];
        var badCount = 0;
        for (var i = 0; i < total; i++)
        {
            vector[0] = i;
            var isBad = i % 3 == 0;
            badCount += isBad ? 1 : 0;
            Assert.That(mixed.LogProduction(vector, "0", metadata: isBad ? tooLong : fine), Is.True);
        }

        for (var i = 0; i < allBad; i++)
        {
            vector[0] = i;
            Assert.That(bad.LogProduction(vector, "0", metadata: tooLong), Is.True);
        }

        // Act
        await client.FlushAsync(cancellationToken);

        // Assert
        var stored = await client.CountAsync(mixed.Descriptor.Id, cancellationToken: cancellationToken);
        var warnings = logs.Messages.Where(m => m.Level >= LogLevel.Warning && m.Message.Contains("rejected", StringComparison.Ordinal)).ToList();
        Assert.Multiple(() =>
        {
            Assert.That(client.Statistics.Failed, Is.EqualTo(badCount + allBad), "every bad record counted failed");
            Assert.That(client.Statistics.Exported, Is.EqualTo(total - badCount), "every good record delivered");
            Assert.That(stored, Is.EqualTo(total - badCount));
            Assert.That(warnings, Has.Count.EqualTo(2), "one warning per rejected batch, not one per record");
            Assert.That(warnings.Select(w => w.Message), Has.Exactly(1).Matches<string>(m =>
                m.Contains($"rejected {badCount} of the {total} records", StringComparison.Ordinal)
                && m.Contains("first: records[0].metadata[\"text\"]: value is 1500 characters, limit 1024", StringComparison.Ordinal)));
            Assert.That(warnings.Select(w => w.Message), Has.Exactly(1).Matches<string>(m =>
                m.Contains($"rejected all {allBad} records", StringComparison.Ordinal)));
        });
    }
}
