using Chroma;
using Chroma.IntegrationTests.Outage;
using Microsoft.Extensions.Logging;

namespace Chroma.IntegrationTests.Ingest;

/// <summary>
/// Batches the real server refuses for their size are split and delivered, not retried whole for ever (outside-in probe g,
/// F4: a batch over <c>Chroma:Limits:MaxMessageBytes</c>; F10: a batch over <c>Chroma:Limits:MaxBatchRecords</c>).
/// </summary>
[TestFixture]
public sealed class BatchSizeLimitTests
{
    private static readonly ChromaRetryOptions s_fastRetry = new()
    {
        BaseDelay = TimeSpan.FromMilliseconds(20),
        MaxDelay = TimeSpan.FromMilliseconds(200),
    };

    [Test, CancelAfter(60_000)]
    public async Task Log_BatchesOverServerMessageLimit_AllDeliveredOnlyTheRecordTooLargeAloneFailed(CancellationToken cancellationToken)
    {
        // Arrange: a 64 KiB server message limit; the client's batch budget (1 MiB) is larger, so its batches of 1 KiB
        // records are refused until split. One record with 32 metadata values of 1,000 '€' (96 KB in UTF-8, valid under
        // the server's default limits) is over the limit alone.
        const int total = 2_000;
        const int dimension = 256;
        await using var fixture = await ServerFixture.StartAsync(configure: o => o.Limits.MaxMessageBytes = 64 * 1024);
        using var logs = new RecordingLoggerFactory();
        var client = new ChromaClient(new ChromaClientOptions
        {
            Endpoint = fixture.Endpoint,
            MaxBatchBytes = 1024 * 1024,
            LoggerFactory = logs,
            FlushInterval = TimeSpan.FromMilliseconds(20),
            Retry = s_fastRetry,
        });
        await using var clientScope = client;
        var set = client.GetEmbeddingSet(new EmbeddingSetDescriptor("it-msg-limit", "1", "fc", dimension));
        var small = client.GetEmbeddingSet(new EmbeddingSetDescriptor("it-msg-limit-small", "1", "fc", 8));
        var huge = Enumerable.Range(0, 32).ToDictionary(i => "k" + i.ToString(System.Globalization.CultureInfo.InvariantCulture), _ => new string('€', 1000));

        // Act
        var vector = new float[dimension];
        for (var i = 0; i < total; i++)
        {
            vector[0] = i;
            Assert.That(set.LogTraining(vector, label: "a"), Is.True);
            if (i == total / 2)
            {
                Assert.That(set.LogTraining(vector, label: "a", metadata: huge), Is.True);
            }

            if (i % 20 == 0)
            {
                Assert.That(small.LogTraining(new float[8], label: "b"), Is.True);
            }
        }

        await client.FlushAsync(cancellationToken);

        // Assert
        var stats = client.Statistics;
        var stored = await client.CountAsync(set.Descriptor.Id, cancellationToken: cancellationToken);
        var storedSmall = await client.CountAsync(small.Descriptor.Id, cancellationToken: cancellationToken);
        var warnings = logs.Messages.Where(m => m.Level >= LogLevel.Warning).Select(m => m.Message).ToList();
        foreach (var warning in warnings)
        {
            await TestContext.Out.WriteLineAsync(warning);
        }

        Assert.Multiple(() =>
        {
            Assert.That(warnings.Single(m => m.StartsWith("Chroma dropped a record of", StringComparison.Ordinal)),
                Does.Contain("message limit (65536 bytes"), "the drop names the size and the limit");
            Assert.That(warnings.Where(m => m.StartsWith("Chroma cannot deliver", StringComparison.Ordinal)), Is.Empty, "a size refusal is no outage");
            Assert.That(stored, Is.EqualTo(total), "every record that fits is stored");
            Assert.That(storedSmall, Is.EqualTo(total / 20), "the other set is not held up");
            Assert.That(stats.Received, Is.EqualTo(total + 1 + (total / 20)), "received");
            Assert.That(stats.Exported, Is.EqualTo(total + (total / 20)), "exported");
            Assert.That(stats.Failed, Is.EqualTo(1), "only the record too large alone");
            Assert.That(stats.Dropped + stats.DroppedInvalid, Is.Zero, "dropped");
            Assert.That(stats.Exported + stats.Failed + stats.Dropped + stats.DroppedInvalid, Is.EqualTo(stats.Received), "counters add up");
        });
    }

    [Test, CancelAfter(60_000)]
    public async Task Log_BatchesOverServerMaxBatchRecords_AllDelivered(CancellationToken cancellationToken)
    {
        // Arrange: the server takes at most 50 records a batch; the client sends up to 512.
        const int total = 3_000;
        await using var fixture = await ServerFixture.StartAsync(configure: o => o.Limits.MaxBatchRecords = 50);
        var client = new ChromaClient(new ChromaClientOptions
        {
            Endpoint = fixture.Endpoint,
            FlushInterval = TimeSpan.FromMilliseconds(20),
            Retry = s_fastRetry,
        });
        await using var clientScope = client;
        var set = client.GetEmbeddingSet(new EmbeddingSetDescriptor("it-batch-records", "1", "fc", 16));

        // Act
        var vector = new float[16];
        for (var i = 0; i < total; i++)
        {
            vector[0] = i;
            Assert.That(set.LogTraining(vector, label: "a"), Is.True);
        }

        await client.FlushAsync(cancellationToken);

        // Assert
        var stats = client.Statistics;
        var stored = await client.CountAsync(set.Descriptor.Id, cancellationToken: cancellationToken);
        Assert.Multiple(() =>
        {
            Assert.That(stored, Is.EqualTo(total), "stored");
            Assert.That(stats.Exported, Is.EqualTo(total), "exported");
            Assert.That(stats.Failed + stats.Dropped + stats.DroppedInvalid, Is.Zero, "none failed or dropped");
        });
    }
}
