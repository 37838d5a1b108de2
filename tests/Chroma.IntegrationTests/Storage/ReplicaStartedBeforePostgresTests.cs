using System.Diagnostics;
using Chroma.IntegrationTests.Reliability;
using Chroma.Testing.Postgres;
using Npgsql;

namespace Chroma.IntegrationTests.Storage;

/// <summary>
/// A <c>chroma-server</c> process configured only by environment, started while its PostgreSQL is still down (replicas and
/// database started together, as a compose file or a pod does): it waits (<c>Chroma__Storage__StartupTimeout</c>) and
/// serves once the database comes up; with a short wait and no database it exits with code 5 saying how long it waited.
/// </summary>
[TestFixture]
[Category("postgres")]
public sealed class ReplicaStartedBeforePostgresTests
{
    [Test, CancelAfter(180_000)]
    public async Task Start_PostgresComesUpThreeSecondsLater_ServerWaitsThenServesAndStores(CancellationToken cancellationToken)
    {
        // Arrange: a private cluster, stopped before the server starts.
        using var cluster = PostgresCluster.TryCreate(out var reason);
        if (cluster is null)
        {
            TestPostgres.SkipOrFail(reason);
        }

        cluster!.StopImmediate();
        await using var server = new ServerProcess(
            Path.Combine(Path.GetTempPath(), "chroma-wait-" + Guid.NewGuid().ToString("N")),
            ServerProcess.FreePort(),
            deleteDataOnDispose: true,
            new Dictionary<string, string>
            {
                ["Chroma__Storage__Provider"] = "Postgres",
                ["Chroma__Storage__ConnectionString"] = cluster.ConnectionString,
                ["Chroma__Storage__StartupTimeout"] = "00:01:00",
                ["Chroma__Web__Enabled"] = "false",
            });
        var clock = Stopwatch.StartNew();

        // Act
        var starting = server.StartAsync(cancellationToken, TimeSpan.FromSeconds(120));
        await Task.Delay(3_000, cancellationToken);
        Assert.That(starting.IsCompleted, Is.False, "the server waits while PostgreSQL is down");
        cluster.Start();
        await starting;

        // Assert: it serves and stores in that database.
        Assert.That(clock.Elapsed, Is.GreaterThanOrEqualTo(TimeSpan.FromSeconds(3)));
        await using var client = new ChromaClient(new ChromaClientOptions { Endpoint = server.Endpoint });
        var set = client.GetEmbeddingSet(new EmbeddingSetDescriptor("waited", "1", "fc", 4));
        set.LogProduction([1f, 2f, 3f, 4f], "a");
        await client.FlushAsync(cancellationToken);
        Assert.That(await client.CountAsync(set.Descriptor.Id, null, null, cancellationToken), Is.EqualTo(1));
        await using var connection = new NpgsqlConnection(cluster.ConnectionString);
        await connection.OpenAsync(cancellationToken);
        await using var count = new NpgsqlCommand("SELECT COUNT(*) FROM chroma_schema_migrations", connection);
        Assert.That((long)(await count.ExecuteScalarAsync(cancellationToken))!, Is.GreaterThan(0), "the schema was migrated in the database that came up");
    }

    [Test, CancelAfter(120_000)]
    public async Task Start_NoPostgresWithinTheWait_ExitsWithCode5SayingHowLongItWaited(CancellationToken cancellationToken)
    {
        // Arrange: nothing listens on the port; two seconds allowed.
        var connectionString = $"Host=127.0.0.1;Port={ServerProcess.FreePort()};Database=chroma;Username=chroma;Password=pg-secret-4711";
        var environment = new Dictionary<string, string>
        {
            ["Chroma__Host"] = "127.0.0.1",
            ["Chroma__Port"] = ServerProcess.FreePort().ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Chroma__DataDirectory"] = Path.Combine(Path.GetTempPath(), "chroma-wait-" + Guid.NewGuid().ToString("N")),
            ["Chroma__Web__Enabled"] = "false",
            ["Chroma__Storage__Provider"] = "Postgres",
            ["Chroma__Storage__ConnectionString"] = connectionString,
            ["Chroma__Storage__StartupTimeout"] = "00:00:02",
        };

        // Act
        var (exitCode, output, error) = await ServerProcess.RunToExitAsync(environment, TimeSpan.FromSeconds(90));

        // Assert
        var said = output + error;
        Assert.Multiple(() =>
        {
            Assert.That(exitCode, Is.EqualTo(5), said);
            Assert.That(said, Does.Contain("cannot connect to PostgreSQL at Host=127.0.0.1"));
            Assert.That(said, Does.Contain("Chroma:Storage:StartupTimeout is 00:00:02"));
            Assert.That(said, Does.Contain("PostgreSQL does not accept connections yet, or cut one while the schema was prepared (attempt 1"), "each attempt logged");
            Assert.That(said, Does.Not.Contain("pg-secret-4711"));
        });
    }
}
