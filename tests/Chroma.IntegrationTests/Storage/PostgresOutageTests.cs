using Chroma;
using Chroma.Server.Hosting;
using Chroma.Server.Storage;
using Chroma.Testing.Postgres;
using Grpc.Core;
using Grpc.Health.V1;
using Grpc.Net.Client;

namespace Chroma.IntegrationTests.Storage;

/// <summary>
/// PostgreSQL stops (<c>pg_ctl stop -m immediate</c>) while a client streams records through a replica, then starts
/// again: ingest answers Unavailable meanwhile and the client re-sends, queries fail with Unavailable, readiness says
/// not serving, and after the restart the same replica (never restarted) stores every record exactly once.
/// </summary>
[TestFixture]
[Category("postgres")]
public sealed class PostgresOutageTests
{
    private const int Dimension = 8;
    private const int Total = 20_000;

    [Test, CancelAfter(420_000)]
    public async Task Log_PostgresStoppedMidStreamThenStarted_UnavailableMeanwhileAndEveryRecordStoredExactlyOnce(CancellationToken cancellationToken)
    {
        // Arrange
        using var cluster = PostgresCluster.TryCreate(out var reason);
        if (cluster is null)
        {
            TestPostgres.SkipOrFail(reason);
        }

        await using var server = await PostgresReplica.StartAsync(cluster!.ConnectionString, options => options.Web.Enabled = false, cancellationToken);
        await using var client = new ChromaClient(new ChromaClientOptions
        {
            Endpoint = server.Endpoint,
            QueueCapacity = Total,
            MaxBatchSize = 200,
            Retry = new ChromaRetryOptions { BaseDelay = TimeSpan.FromMilliseconds(100), MaxDelay = TimeSpan.FromSeconds(1) },
        });
        using var channel = GrpcChannel.ForAddress(server.Endpoint);
        var health = new Health.HealthClient(channel);
        var set = client.GetEmbeddingSet(new EmbeddingSetDescriptor("outage", "1", "fc", Dimension));
        var row = new float[Dimension];

        // Act: a first half stored, then the database goes down while the second half streams.
        for (var i = 0; i < Total / 2; i++)
        {
            row[0] = i;
            set.LogProduction(row, "a");
        }

        await client.FlushAsync(cancellationToken);
        var producer = Task.Run(
            async () =>
            {
                for (var i = Total / 2; i < Total; i++)
                {
                    row[0] = i;
                    set.LogProduction(row, "a");
                    if (i % 500 == 0)
                    {
                        await Task.Delay(20, cancellationToken);
                    }
                }
            },
            cancellationToken);
        await Task.Delay(100, cancellationToken);
        cluster.StopImmediate();
        var readinessDown = await WaitForHealthAsync(health, "chroma.v1.Ingest", HealthCheckResponse.Types.ServingStatus.NotServing, cancellationToken);
        var queryDown = Assert.ThrowsAsync<ChromaException>(() => client.CountAsync(set.Descriptor.Id, null, null, cancellationToken));
        await producer;
        await Task.Delay(2_000, cancellationToken);
        cluster.Start();
        await client.FlushAsync(cancellationToken).WaitAsync(TimeSpan.FromMinutes(3), cancellationToken);
        var readinessUp = await WaitForHealthAsync(health, "chroma.v1.Ingest", HealthCheckResponse.Types.ServingStatus.Serving, cancellationToken);
        var count = await client.CountAsync(set.Descriptor.Id, null, null, cancellationToken);
        var records = await client.GetRecordsAsync(set.Descriptor.Id, new RecordQuery { PageSize = 1_000 }, cancellationToken);

        // Assert
        Assert.Multiple(() =>
        {
            Assert.That(readinessDown, Is.True, "readiness reported storage not ready while PostgreSQL was down");
            Assert.That(queryDown?.StatusCode, Is.EqualTo(StatusCode.Unavailable), queryDown?.Message);
            Assert.That(readinessUp, Is.True, "ready again without a restart");
            Assert.That(count, Is.EqualTo(Total), "every acknowledged record stored, none twice");
            Assert.That(client.Statistics.Dropped, Is.Zero);
            Assert.That(records.Records, Has.Count.EqualTo(1_000));
        });
    }

    private static async Task<bool> WaitForHealthAsync(Health.HealthClient health, string service, HealthCheckResponse.Types.ServingStatus wanted, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (DateTime.UtcNow < deadline)
        {
            var status = (await health.CheckAsync(new HealthCheckRequest { Service = service }, cancellationToken: cancellationToken)).Status;
            if (status == wanted)
            {
                return true;
            }

            await Task.Delay(100, cancellationToken);
        }

        return false;
    }
}
