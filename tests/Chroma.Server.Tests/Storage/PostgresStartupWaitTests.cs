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
    public async Task Check_PostgresRestartsDuringTheMigration_MigrationIsRetriedWithinTheWait(CancellationToken cancellationToken)
    {
        // Arrange: a running server; the work after connecting (the migration) is cut twice the way a restart cuts it
        // (57P01 "terminating connection due to administrator command"), then runs. In CI this crashed a replica that
        // started while a test restarted PostgreSQL (exit code 134).
        var (connectionString, reason) = await TestPostgres.CreateDatabaseAsync(cancellationToken);
        if (connectionString is null)
        {
            TestPostgres.SkipOrFail(reason);
        }

        using var dataSource = PostgresConnection.CreateDataSource(connectionString);
        var clock = new SteppingClock();
        var reasons = new List<string>();
        var runs = 0;
        IReadOnlyList<int> applied = [];

        // Act
        PostgresConnection.Check(dataSource, connectionString!, TimeSpan.FromMinutes(1), clock, (_, why, _) => reasons.Add(why), () =>
        {
            if (++runs <= 2)
            {
                throw new PostgresException("terminating connection due to administrator command", "FATAL", "FATAL", PostgresErrorCodes.AdminShutdown);
            }

            applied = PostgresSchema.Migrate(dataSource);
        });

        // Assert
        Assert.Multiple(() =>
        {
            Assert.That(runs, Is.EqualTo(3));
            Assert.That(reasons, Has.Count.EqualTo(2));
            Assert.That(reasons[0], Does.Contain("administrator command"));
            Assert.That(applied, Has.Count.EqualTo(PostgresSchema.CurrentVersion), "the third run migrated the new database");
            Assert.That(clock.Elapsed, Is.EqualTo(TimeSpan.FromSeconds(0.75)), "pauses of 0.25 and 0.5 s");
        });
        TestPostgres.DropDatabase(connectionString!);
    }

    [Test, CancelAfter(60_000)]
    public async Task Check_MigrationFailsForGood_FailsAtOnceSayingTheSchemaCouldNotBePrepared(CancellationToken cancellationToken)
    {
        // Arrange: an error waiting cannot fix (insufficient privilege) in the work after connecting.
        var (connectionString, reason) = await TestPostgres.CreateDatabaseAsync(cancellationToken);
        if (connectionString is null)
        {
            TestPostgres.SkipOrFail(reason);
        }

        using var dataSource = PostgresConnection.CreateDataSource(connectionString);
        var waited = 0;

        // Act
        var ex = Assert.Throws<StorageStartException>(() => PostgresConnection.Check(
            dataSource, connectionString!, TimeSpan.FromMinutes(1), new SteppingClock(), (_, _, _) => waited++,
            () => throw new PostgresException("permission denied for schema public", "ERROR", "ERROR", PostgresErrorCodes.InsufficientPrivilege)));

        // Assert
        Assert.Multiple(() =>
        {
            Assert.That(waited, Is.Zero);
            Assert.That(ex!.Message, Does.Contain("cannot prepare the schema in PostgreSQL at Host="));
            Assert.That(ex.Message, Does.Contain("permission denied"));
        });
        TestPostgres.DropDatabase(connectionString!);
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
