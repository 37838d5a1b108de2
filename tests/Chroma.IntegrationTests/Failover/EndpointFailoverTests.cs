using Chroma;
using Chroma.IntegrationTests.Ingest;
using Chroma.IntegrationTests.Reliability;

namespace Chroma.IntegrationTests.Failover;

/// <summary>
/// A client with two endpoints (<see cref="ChromaClientOptions.Endpoints"/>) against two real servers on 127.0.0.1: the
/// first stops mid-stream and the client carries on with the second. Each server here has its own SQLite store, so a
/// batch the first committed but could not acknowledge is stored there and again on the second; the shared-store
/// version (nothing stored twice) is <see cref="SharedStoreFailoverTests"/>.
/// </summary>
[TestFixture]
public sealed class EndpointFailoverTests
{
    private const int Dimension = 16;

    [Test, CancelAfter(180_000)]
    public async Task Log_FirstReplicaStoppedMidStream_EveryRecordDeliveredToOneOrTheOther(CancellationToken cancellationToken)
    {
        // Arrange
        const int total = 20_000;
        await using var first = await ServerFixture.StartAsync();
        await using var second = await ServerFixture.StartAsync();
        var client = FailoverClients.Create(total, first.Endpoint, second.Endpoint);
        await using var clientScope = client;
        var set = client.GetEmbeddingSet(new EmbeddingSetDescriptor("it-failover", "1", "fc", Dimension));
        var vector = new float[Dimension];
        for (var i = 0; i < total / 2; i++)
        {
            RecordCodec.Encode(vector, 0, i);
            set.Log("failover", vector);
        }

        await FailoverClients.WaitUntilAsync(() => client.Statistics.Exported >= 2_000, cancellationToken);
        for (var i = total / 2; i < total; i++)
        {
            RecordCodec.Encode(vector, 0, i);
            set.Log("failover", vector);
        }

        // Act: the first server goes away with batches queued and in flight; the client must finish on the second.
        List<(int, int)> onSecond = [];
        Uri? endpointAfter = null;
        await first.RestartAsync(whileDown: async () =>
        {
            await client.FlushAsync(cancellationToken);
            endpointAfter = client.Endpoint;
            onSecond = await StoredRecords.ReadAllKeysAsync(client, set.Descriptor.Id, cancellationToken);
        });
        var reader = new ChromaClient(first.Endpoint);
        await using var readerScope = reader;
        var onFirst = await StoredRecords.ReadAllKeysAsync(reader, set.Descriptor.Id, cancellationToken);

        // Assert
        var stats = client.Statistics;
        var union = onFirst.Concat(onSecond).ToHashSet();
        var onBoth = onFirst.Intersect(onSecond).Count();
        await TestContext.Out.WriteLineAsync($"first server: {onFirst.Count}, second: {onSecond.Count}, on both: {onBoth}");
        Assert.Multiple(() =>
        {
            Assert.That(stats.Exported, Is.EqualTo(total), "acknowledged");
            Assert.That(stats.Failed + stats.Dropped, Is.Zero, "failed or dropped");
            Assert.That(endpointAfter, Is.EqualTo(second.Endpoint), "the client moved on to the second endpoint");
            Assert.That(union, Has.Count.EqualTo(total), "every record is on one of the servers");
            Assert.That(onFirst.Distinct().Count(), Is.EqualTo(onFirst.Count), "nothing stored twice on the first");
            Assert.That(onSecond.Distinct().Count(), Is.EqualTo(onSecond.Count), "nothing stored twice on the second");
            Assert.That(onSecond, Is.Not.Empty, "the second server received the rest");
            Assert.That(onBoth, Is.LessThanOrEqualTo(4 * 250), "at most the batches in flight at the stop were re-sent");
        });
    }

    [Test, CancelAfter(120_000)]
    public async Task Queries_FirstEndpointUnreachable_AnsweredByTheNextWhichStaysInUse(CancellationToken cancellationToken)
    {
        // Arrange: nothing listens on the first endpoint.
        await using var server = await ServerFixture.StartAsync();
        var unreachable = new Uri($"http://127.0.0.1:{ServerProcess.FreePort()}");
        var client = FailoverClients.Create(1_000, unreachable, server.Endpoint);
        await using var clientScope = client;
        var set = client.GetEmbeddingSet(new EmbeddingSetDescriptor("it-failover-query", "1", "fc", Dimension));

        // Act
        var setsBefore = await client.ListSetsAsync(cancellationToken);
        var endpointAfterQuery = client.Endpoint;
        for (var i = 0; i < 100; i++)
        {
            set.Log("failover", new float[Dimension]);
        }

        await client.FlushAsync(cancellationToken);
        var count = await client.CountAsync(set.Descriptor.Id, cancellationToken: cancellationToken);

        // Assert
        Assert.Multiple(() =>
        {
            Assert.That(setsBefore, Is.Empty, "the query was answered by the reachable server");
            Assert.That(endpointAfterQuery, Is.EqualTo(server.Endpoint));
            Assert.That(client.Endpoints, Is.EqualTo(new[] { unreachable, server.Endpoint }));
            Assert.That(count, Is.EqualTo(100));
            Assert.That(client.Statistics.Failed, Is.Zero);
        });
    }
}
