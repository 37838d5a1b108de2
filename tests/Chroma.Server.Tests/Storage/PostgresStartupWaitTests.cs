using System.Diagnostics;
using Chroma.Server.Storage;
using Chroma.Server.Storage.Postgres;
using Chroma.Server.Storage.Postgres.Internal;
using Chroma.Server.Tests.TestSupport;
using Chroma.Testing.Postgres;
using Npgsql;

namespace Chroma.Server.Tests.Storage;

/// <summary>
/// A replica started together with its PostgreSQL (<see cref="StorageOptions.StartupTimeout"/>): it connects once the
/// database comes up; a setting that can never work fails at once.
/// </summary>
[TestFixture]
[Category("postgres")]
public sealed class PostgresStartupWaitTests
{
    [Test, CancelAfter(120_000)]
    public async Task Open_PostgresStartsWhileTheServerWaits_OpensOnceItAcceptsConnections(CancellationToken cancellationToken)
    {
        // Arrange: a private cluster, stopped; the store opens with a minute to wait, and the cluster starts 2 s later.
        using var cluster = PostgresCluster.TryCreate(out var reason);
        if (cluster is null)
        {
            TestPostgres.SkipOrFail(reason);
        }

        cluster!.StopImmediate();
        var attempts = new List<string>();
        var clock = Stopwatch.StartNew();

        // Act
        var opening = Task.Run(
            () => PostgresStorage.Open(cluster.ConnectionString, TimeProvider.System, RecordChangeObservers.None, TimeSpan.FromMinutes(1), (_, why, _) => attempts.Add(why)),
            cancellationToken);
        await Task.Delay(2_000, cancellationToken);
        Assert.That(opening.IsCompleted, Is.False, "still waiting while nothing listens");
        cluster.Start();
        using var storage = await opening.WaitAsync(cancellationToken);

        // Assert: it waited through refused attempts and works now.
        Assert.Multiple(() =>
        {
            Assert.That(clock.Elapsed, Is.GreaterThanOrEqualTo(TimeSpan.FromSeconds(2)));
            Assert.That(attempts, Has.Count.GreaterThanOrEqualTo(3), "0.25 + 0.5 + 1 s of pauses fit in the first 2 s");
            Assert.That(attempts[0], Does.Contain("refused").IgnoreCase.Or.Contain("Failed to connect").IgnoreCase);
            Assert.That(storage.Records.ListSets(), Is.Empty);
        });
    }

    [Test, CancelAfter(60_000)]
    public async Task Check_DatabaseDoesNotExist_FailsAtOnceWithoutWaiting(CancellationToken cancellationToken)
    {
        // Arrange: a running server, a database name it does not have, a minute allowed.
        var (existing, reason) = await TestPostgres.CreateDatabaseAsync(cancellationToken);
        if (existing is null)
        {
            TestPostgres.SkipOrFail(reason);
        }

        var connectionString = new NpgsqlConnectionStringBuilder(existing) { Database = "chroma_no_such_database" }.ConnectionString;
        using var dataSource = PostgresConnection.CreateDataSource(connectionString);
        var clock = new SteppingClock();
        var waited = 0;

        // Act
        var ex = Assert.Throws<StorageStartException>(
            () => PostgresConnection.Check(dataSource, connectionString, TimeSpan.FromMinutes(1), clock, (_, _, _) => waited++));

        // Assert
        Assert.Multiple(() =>
        {
            Assert.That(waited, Is.Zero, "no retry: waiting cannot make the database exist");
            Assert.That(clock.Elapsed, Is.EqualTo(TimeSpan.Zero));
            Assert.That(ex!.Message, Does.Contain("chroma_no_such_database"));
        });
        TestPostgres.DropDatabase(existing!);
    }
}
