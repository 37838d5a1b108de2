using Chroma;
using Chroma.IntegrationTests.Ingest;
using Chroma.IntegrationTests.Storage;
using Chroma.Server.Hosting;
using Chroma.Server.Storage;
using Chroma.Testing.Postgres;

namespace Chroma.IntegrationTests.Failover;

/// <summary>
/// Two in-process servers on one PostgreSQL database, a client with both as <see cref="ChromaClientOptions.Endpoints"/>:
/// the first stops mid-stream, the client re-sends what it did not acknowledge to the second with the same ids, and the
/// store holds every record exactly once (a re-sent record the first had committed is a duplicate, not a second row).
/// </summary>
[TestFixture]
[Category("postgres")]
public sealed class SharedStoreFailoverTests
{
    private const int Dimension = 16;

    [Test, CancelAfter(240_000)]
    public async Task Log_FirstReplicaStoppedMidStream_StoredExactlyOnce(CancellationToken cancellationToken)
    {
        // Arrange
        const int total = 20_000;
        var connectionString = await ReplicaPostgres.CreateDatabaseOrIgnoreAsync(cancellationToken);
        try
        {
            var first = await StartAsync(connectionString);
            await using var second = await StartAsync(connectionString);
            var client = FailoverClients.Create(total, first.Endpoint, second.Endpoint);
            await using var clientScope = client;
            var set = client.GetEmbeddingSet(new EmbeddingSetDescriptor("it-failover-pg", "1", "fc", Dimension));
            var vector = new float[Dimension];
            for (var i = 0; i < total; i++)
            {
                RecordCodec.Encode(vector, 0, i);
                set.Log("failover", vector);
                if (i == total / 2)
                {
                    await FailoverClients.WaitUntilAsync(() => client.Statistics.Exported >= 2_000, cancellationToken);
                }
            }

            // Act
            await first.DisposeAsync();
            await client.FlushAsync(cancellationToken);
            var seen = await StoredRecords.ReadAllKeysAsync(client, set.Descriptor.Id, cancellationToken);
            var stored = await ReplicaPostgres.ReadKeysAsync(connectionString, set.Descriptor.Id, cancellationToken);

            // Assert
            var stats = client.Statistics;
            Assert.Multiple(() =>
            {
                Assert.That(stats.Exported, Is.EqualTo(total), "acknowledged");
                Assert.That(stats.Failed + stats.Dropped, Is.Zero, "failed or dropped");
                Assert.That(client.Endpoint, Is.EqualTo(second.Endpoint), "the client moved on to the second endpoint");
            });
            StoredRecords.AssertExactlyOnce(seen, 1, total);
            StoredRecords.AssertExactlyOnce(stored, 1, total);
        }
        finally
        {
            TestPostgres.DropDatabase(connectionString);
        }
    }

    private static Task<ChromaServer> StartAsync(string connectionString) => PostgresReplica.StartAsync(connectionString);
}
