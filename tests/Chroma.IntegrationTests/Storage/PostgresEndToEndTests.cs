using Chroma;
using Chroma.Server.Hosting;
using Chroma.Server.Storage;
using Chroma.Testing.Postgres;

namespace Chroma.IntegrationTests.Storage;

/// <summary>The real server on PostgreSQL (Chroma:Storage:Provider=Postgres) with the real client.</summary>
[TestFixture]
[Category("postgres")]
public sealed class PostgresEndToEndTests
{
    [Test, CancelAfter(240_000)]
    public async Task Log_ServerOnPostgres_QueriesAnswerAndARestartWithNewDataDirectoryKeepsEverything(CancellationToken cancellationToken)
    {
        // Arrange
        var (connectionString, reason) = await TestPostgres.CreateDatabaseAsync(cancellationToken);
        if (connectionString is null)
        {
            TestPostgres.SkipOrFail(reason);
        }

        try
        {
            var server = await StartAsync(connectionString!);
            var client = new ChromaClient(new ChromaClientOptions { Endpoint = server.Endpoint, FlushInterval = TimeSpan.FromMilliseconds(10) });
            var set = client.GetEmbeddingSet(new EmbeddingSetDescriptor("it-postgres", "1", "fc", 4));
            for (var i = 0; i < 200; i++)
            {
                set.LogTraining([i, 0, 0, 0], label: (i % 2).ToString(System.Globalization.CultureInfo.InvariantCulture));
            }

            for (var i = 0; i < 20; i++)
            {
                set.LogProduction([i + 0.25f, 1, 0, 0], predictedClass: "1", inputUri: $"file://prod/{i}.png");
            }

            // Act
            await client.FlushAsync(cancellationToken);
            var count = await client.CountAsync(set.Descriptor.Id, null, null, cancellationToken);
            var nearest = await client.FindNearestAsync(set.Descriptor.Id, new float[] { 7.1f, 0, 0, 0 }, 1, ChromaDatasets.Training, cancellationToken);
            await client.DisposeAsync();
            await server.DisposeAsync();

            // A new data directory: nothing local survives, the records must come from PostgreSQL.
            server = await StartAsync(connectionString!);
            var again = new ChromaClient(new ChromaClientOptions { Endpoint = server.Endpoint });
            var sets = await again.ListSetsAsync(cancellationToken);
            var production = await again.GetRecordsAsync(set.Descriptor.Id, new RecordQuery { Dataset = ChromaDatasets.Production, PageSize = 100 }, cancellationToken);
            var nearestAfter = await again.FindNearestAsync(set.Descriptor.Id, new float[] { 7.1f, 0, 0, 0 }, 1, ChromaDatasets.Training, cancellationToken);
            await again.DisposeAsync();
            await server.DisposeAsync();

            // Assert
            var info = sets.Single(s => s.SetId == set.Descriptor.Id);
            Assert.Multiple(() =>
            {
                Assert.That(count, Is.EqualTo(220));
                Assert.That(nearest.Single().Distance, Is.EqualTo(0.01f).Within(1e-4f));
                Assert.That(info.Datasets.Single(d => d.Dataset == ChromaDatasets.Training).Count, Is.EqualTo(200));
                Assert.That(production.Records.Select(r => r.InputUri), Is.EqualTo(Enumerable.Range(0, 20).Select(i => $"file://prod/{i}.png")));
                Assert.That(nearestAfter.Single().Record.Id, Is.EqualTo(nearest.Single().Record.Id), "the index was rebuilt from PostgreSQL");
            });
        }
        finally
        {
            TestPostgres.DropDatabase(connectionString!);
        }
    }

    [Test, CancelAfter(60_000)]
    public void StartAsync_PostgresUnreachable_FailsNamingTheSettingWithoutThePassword()
    {
        var options = new ChromaServerOptions
        {
            Host = "127.0.0.1",
            Port = 0,
            DataDirectory = Path.Combine(Path.GetTempPath(), "chroma-it-" + Guid.NewGuid().ToString("N")),
            // No wait for the database (StartupTimeout 0): the failure itself is what is checked here.
            Storage = new StorageOptions
            {
                Provider = StorageProvider.Postgres,
                ConnectionString = "Host=127.0.0.1;Port=1;Password=pg-secret-4711;Timeout=2",
                StartupTimeout = TimeSpan.Zero,
            },
        };

        var ex = Assert.ThrowsAsync<ChromaServerStartException>(() => ChromaServer.StartAsync(options));

        Assert.Multiple(() =>
        {
            Assert.That(ex!.Failure, Is.EqualTo(ChromaServerStartFailure.Setting));
            Assert.That(ex.InnerException, Is.InstanceOf<StorageStartException>());
            Assert.That(ex.Message, Does.Contain("Chroma__Storage__ConnectionString"));
            Assert.That(ex.ToString(), Does.Not.Contain("pg-secret-4711"));
        });
    }

    private static Task<ChromaServer> StartAsync(string connectionString) => PostgresReplica.StartAsync(connectionString);
}

/// <summary>Stops the private PostgreSQL (if a test started one) when the assembly's tests are done.</summary>
[SetUpFixture]
public sealed class PostgresLifetime
{
    [OneTimeTearDown]
    public void StopPostgres() => TestPostgres.Stop();
}
