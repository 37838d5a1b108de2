using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Chroma.Server.Storage;
using Chroma.Server.Storage.Postgres;
using Chroma.Server.Storage.Postgres.Internal;
using Chroma.Server.Tests.TestSupport;
using Npgsql;

namespace Chroma.Server.Tests.Storage;

/// <summary>What only PostgreSQL has to prove: several servers on one database (migration, sequence order), and its start errors.</summary>
[TestFixture]
[Category("postgres")]
public sealed class PostgresStoreTests : PostgresDatabaseTest
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(60);
    [Test, CancelAfter(120_000)]
    public async Task Migrate_FourServersStartTogether_EachVersionAppliedOnce(CancellationToken cancellationToken)
    {
        // Arrange
        var sources = Enumerable.Range(0, 4).Select(_ => PostgresConnection.CreateDataSource(Database.ConnectionString)).ToList();
        try
        {
            // Act
            var applied = await Task.WhenAll(sources.Select(s => Task.Run(() => PostgresSchema.Migrate(s), cancellationToken)));

            // Assert
            using var connection = sources[0].OpenConnection();
            using var rows = new NpgsqlCommand("SELECT COUNT(*) FROM chroma_schema_migrations;", connection);
            Assert.Multiple(() =>
            {
                Assert.That(applied.Count(a => a.Count > 0), Is.EqualTo(1), "exactly one server migrated");
                Assert.That(applied.SelectMany(a => a), Is.EqualTo(Enumerable.Range(1, PostgresSchema.CurrentVersion)));
                Assert.That(rows.ExecuteScalar(), Is.EqualTo(PostgresSchema.CurrentVersion));
            });
        }
        finally
        {
            sources.ForEach(s => s.Dispose());
        }
    }

    [Test, CancelAfter(120_000)]
    public async Task Read_SameStatementRepeatedOnOneConnection_PostgresHoldsItPrepared(CancellationToken cancellationToken)
    {
        // Arrange: a pool of one connection, so the repeated reads and the check share it.
        var set = Records.Set();
        using var database = PostgresDatabase.Open($"{Database.ConnectionString};Maximum Pool Size=1", Clock);
        var store = new PostgresRecordStore(database, RecordChangeObservers.None);
        await store.IngestAsync(Records.SetId(set), set, StoreFixture.Prepare(Records.Sequence(4, start: 1)), cancellationToken).WaitAsync(Bound, cancellationToken);
        var stored = store.FindSet(Records.SetId(set))!;

        // Act: Npgsql prepares a statement from its fifth use.
        for (var i = 0; i < 6; i++)
        {
            Assert.That(store.GetRecordsBySequence(stored, [1, 2], includeEmbeddings: false), Has.Count.EqualTo(2));
        }

        // Assert: PostgreSQL holds the read prepared for the connection (pg_prepared_statements lists its own session's).
        using var connection = database.OpenConnection();
        using var prepared = new NpgsqlCommand("SELECT COUNT(*) FROM pg_prepared_statements WHERE statement LIKE '%.sequence = ANY($2)%';", connection);
        Assert.That(prepared.ExecuteScalar(), Is.EqualTo(1L));
    }

    [Test, CancelAfter(120_000)]
    public async Task Open_DatabaseOfSchemaOne_MigratesAndReadsEverySetAsL2(CancellationToken cancellationToken)
    {
        // Arrange: a database written before sets had a metric (schema 1: no embedding_sets.metric column).
        var set = Records.Set();
        using (var first = Database.Open(Clock, RecordChangeObservers.None))
        {
            await first.Records.IngestAsync(Records.SetId(set), set, StoreFixture.Prepare(Records.Sequence(4, start: 1)), cancellationToken).WaitAsync(Bound, cancellationToken);
        }

        using (var source = PostgresConnection.CreateDataSource(Database.ConnectionString))
        using (var connection = source.OpenConnection())
        {
            Execute(connection, "ALTER TABLE embedding_sets DROP COLUMN metric; DELETE FROM chroma_schema_migrations WHERE version >= 2;");
        }

        // Act
        using var reopened = Database.Open(Clock, RecordChangeObservers.None);
        var cosine = Records.Set();
        cosine.Metric = Protocol.V1.DistanceMetric.Cosine;
        var mismatch = await reopened.Records.IngestAsync(Records.SetId(set), cosine, StoreFixture.Prepare(Records.Sequence(1, start: 9)), cancellationToken)
            .WaitAsync(Bound, cancellationToken);

        // Assert
        Assert.Multiple(() =>
        {
            Assert.That(reopened.Records.FindSet(Records.SetId(set))!.Metric, Is.EqualTo(Protocol.V1.DistanceMetric.L2));
            Assert.That(reopened.Records.ListSets().Single().TotalRecords, Is.EqualTo(4));
            Assert.That(mismatch.Error?.Kind, Is.EqualTo(IngestRejectionKind.MetricMismatch));
        });
    }

    [Test, CancelAfter(120_000)]
    public async Task Open_DatabaseOfSchemaFour_DeletedSequencesReadFromTheDeletedRowsIndex(CancellationToken cancellationToken)
    {
        // Arrange: a database of schema 4 (before records_deleted_rows), where "the set's sequences deleted up to S"
        // (a saved index's load, a Studio map update) scanned the set: 1.2 s at a million records.
        const string plan = "SET enable_seqscan = off; EXPLAIN SELECT sequence FROM records WHERE set_key = 1 AND deleted AND sequence <= 100 ORDER BY sequence;";
        var set = Records.Set();
        using (var first = Database.Open(Clock, RecordChangeObservers.None))
        {
            await first.Records.IngestAsync(Records.SetId(set), set, StoreFixture.Prepare(Records.Sequence(4, start: 1)), cancellationToken).WaitAsync(Bound, cancellationToken);
        }

        using var source = PostgresConnection.CreateDataSource(Database.ConnectionString);
        string before;
        using (var connection = source.OpenConnection())
        {
            Execute(connection, "DROP INDEX records_deleted_rows; DELETE FROM chroma_schema_migrations WHERE version >= 5;");
            before = Plan(connection, plan);
        }

        // Act
        using var reopened = Database.Open(Clock, RecordChangeObservers.None);
        using var after = source.OpenConnection();

        // Assert
        Assert.Multiple(() =>
        {
            Assert.That(before, Does.Not.Contain("records_deleted_rows"));
            Assert.That(Plan(after, plan), Does.Contain("records_deleted_rows"));
        });
    }

    [Test, CancelAfter(120_000)]
    public async Task Open_DatabaseOfSchemaFive_LeaseKeptAndItsRankingClaimsNoDeletesApplied(CancellationToken cancellationToken)
    {
        // Arrange: a database of schema 5 (before scoring_leases.deletes_applied) with a lease and a published pass.
        var set = Records.Set();
        using (var first = Database.Open(Clock, RecordChangeObservers.None))
        {
            await first.Records.IngestAsync(Records.SetId(set), set, StoreFixture.Prepare(Records.Sequence(4, start: 1)), cancellationToken).WaitAsync(Bound, cancellationToken);
            var stored = first.Records.FindSet(Records.SetId(set))!;
            var lease = await first.Coordination.TryAcquireAsync(stored, "a", TimeSpan.FromMinutes(1), cancellationToken);
            await first.Coordination.PublishPassAsync(lease!, 4, 0, 0, cancellationToken);
        }

        using (var source = PostgresConnection.CreateDataSource(Database.ConnectionString))
        using (var connection = source.OpenConnection())
        {
            Execute(connection, "ALTER TABLE scoring_leases DROP COLUMN deletes_applied; DELETE FROM chroma_schema_migrations WHERE version >= 6;");
        }

        // Act
        using var reopened = Database.Open(Clock, RecordChangeObservers.None);
        var reopenedSet = reopened.Records.FindSet(Records.SetId(set))!;
        var before = reopened.Coordination.ReadWatermarks().Single();
        var lease2 = await reopened.Coordination.TryAcquireAsync(reopenedSet, "a", TimeSpan.FromMinutes(1), cancellationToken);
        await reopened.Coordination.PublishPassAsync(lease2!, 4, 2, 0, cancellationToken);
        var after = reopened.Coordination.ReadWatermarks().Single();

        // Assert
        Assert.Multiple(() =>
        {
            Assert.That((before.Holder, before.ScoresRevision, before.CoveredThrough), Is.EqualTo(("a", 1L, 4L)), "the lease and its pass survive");
            Assert.That(before.DeletesApplied, Is.Zero, "a ranking stored before schema 6 claims no deletes");
            Assert.That((after.ScoresRevision, after.DeletesApplied), Is.EqualTo((2L, 2L)));
        });
    }

    private static string Plan(NpgsqlConnection connection, string sql)
    {
        using var command = new NpgsqlCommand(sql, connection);
        using var reader = command.ExecuteReader();
        var lines = new List<string>();
        do
        {
            while (reader.Read())
            {
                lines.Add(reader.GetString(0));
            }
        }
        while (reader.NextResult());

        return string.Join('\n', lines);
    }

    [Test, CancelAfter(120_000)]
    public async Task Migrate_AnotherServerHoldsTheMigrationLock_WaitsThenFindsNothingToDo(CancellationToken cancellationToken)
    {
        // Arrange: "another server" migrated and still holds the lock.
        using var holderSource = PostgresConnection.CreateDataSource(Database.ConnectionString);
        PostgresSchema.Migrate(holderSource);
        using var holder = holderSource.OpenConnection();
        Execute(holder, $"SELECT pg_advisory_lock({PostgresSchema.MigrationLockKey});");
        using var waiterSource = PostgresConnection.CreateDataSource(Database.ConnectionString);

        // Act
        var waiter = Task.Run(() => PostgresSchema.Migrate(waiterSource), cancellationToken);
        await WaitForAsync(() => WaitingForAdvisoryLock(holder) == 1, cancellationToken);
        var finishedWhileLocked = waiter.IsCompleted;
        Execute(holder, $"SELECT pg_advisory_unlock({PostgresSchema.MigrationLockKey});");
        var applied = await waiter.WaitAsync(Bound, cancellationToken);

        // Assert
        Assert.Multiple(() =>
        {
            Assert.That(finishedWhileLocked, Is.False, "the second server waited on the lock");
            Assert.That(applied, Is.Empty, "nothing applied twice");
        });
    }

    [Test, CancelAfter(120_000)]
    public async Task ReadVectors_WriterCommitsLateWhileAnotherWrites_TailingReaderSkipsNoSequence(CancellationToken cancellationToken)
    {
        // Arrange: two servers (replicas) on one database writing the same set, and a reader that tails it by
        // sequence as an index catch-up does (cursor = the high-water mark ReadVectors returns).
        using var replicaA = Database.Open(Clock, RecordChangeObservers.None);
        using var replicaB = Database.Open(Clock, RecordChangeObservers.None);
        var set = Records.Set();
        var setId = Records.SetId(set);
        await replicaA.Records.IngestAsync(setId, set, StoreFixture.Prepare(Records.Sequence(1)), cancellationToken).WaitAsync(Bound, cancellationToken);
        var stored = replicaA.Records.FindSet(setId)!;
        var seen = new List<long>();
        var cursor = replicaB.Records.ReadVectors(stored, (s, _, _) => seen.Add(s));

        // A's next group stops just before COMMIT (its sequences are allocated, not yet visible).
        var (late, release) = await IngestHeldBeforeCommitAsync(replicaA, set, Bound, cancellationToken);

        // Act: B writes meanwhile. With a naive bigserial B would commit larger sequences now and the reader
        // below would move its cursor past A's rows; here B waits for A's lock on the set row instead.
        var other = replicaB.Records.IngestAsync(setId, set, StoreFixture.Prepare(Records.Sequence(100, start: 101)), CancellationToken.None);
        await Task.WhenAny(other, Task.Delay(TimeSpan.FromSeconds(2), cancellationToken));
        cursor = replicaB.Records.ReadVectors(stored, (s, _, _) => seen.Add(s), cursor);
        release.SetResult();
        await Task.WhenAll(late, other).WaitAsync(Bound, cancellationToken);
        cursor = replicaB.Records.ReadVectors(stored, (s, _, _) => seen.Add(s), cursor);

        // Assert
        var all = new List<long>();
        replicaB.Records.ReadVectors(stored, (s, _, _) => all.Add(s));
        Assert.Multiple(() =>
        {
            Assert.That(all, Has.Count.EqualTo(201));
            Assert.That(seen, Is.EqualTo(all), "every stored sequence reached the tailing reader, once, in order");
            Assert.That(cursor, Is.EqualTo(all[^1]));
        });
    }

    [Test, CancelAfter(180_000)]
    public async Task ReadVectors_FourReplicasWritingOneSet_TailingReaderEndsWithEveryRecordOnce(CancellationToken cancellationToken)
    {
        // Arrange
        const int replicas = 4;
        const int batches = 15;
        const int perBatch = 40;
        var stores = Enumerable.Range(0, replicas).Select(_ => Database.Open(Clock, RecordChangeObservers.None)).ToList();
        try
        {
            var set = Records.Set();
            var setId = Records.SetId(set);
            await stores[0].Records.IngestAsync(setId, set, StoreFixture.Prepare(Records.Sequence(1)), cancellationToken).WaitAsync(Bound, cancellationToken);
            var stored = stores[0].Records.FindSet(setId)!;
            var seen = new List<long>();
            long cursor = 0;
            var writers = stores.Select((s, r) => Task.Run(async () =>
            {
                for (var b = 0; b < batches; b++)
                {
                    var start = 1 + (((r * batches) + b) * perBatch);
                    await s.Records.IngestAsync(setId, set, StoreFixture.Prepare(Records.Sequence(perBatch, start: start))).ConfigureAwait(false);
                }
            }, cancellationToken)).ToList();

            // Act: tail while they write, then once more after.
            while (!writers.All(w => w.IsCompleted))
            {
                cursor = stores[^1].Records.ReadVectors(stored, (s, _, _) => seen.Add(s), cursor);
                await Task.Delay(10, cancellationToken);
            }

            await Task.WhenAll(writers).WaitAsync(Bound, cancellationToken);
            stores[^1].Records.ReadVectors(stored, (s, _, _) => seen.Add(s), cursor);

            // Assert
            var total = 1 + (replicas * batches * perBatch);
            Assert.Multiple(() =>
            {
                Assert.That(seen, Has.Count.EqualTo(total));
                Assert.That(seen, Is.EqualTo(Enumerable.Range(1, total).Select(i => (long)i)), "sequences 1..n, none skipped, none twice");
            });
        }
        finally
        {
            stores.ForEach(s => s.Dispose());
        }
    }

    [Test, CancelAfter(60_000)]
    public async Task IngestAsync_LabelHoldsNul_BatchRejectedNamingTheField(CancellationToken cancellationToken)
    {
        // Arrange
        using var storage = Database.Open(Clock, RecordChangeObservers.None);
        var set = Records.Set();
        var records = Records.Sequence(3);
        records[2].Label = "a\0b";

        // Act
        var outcome = await storage.Records.IngestAsync(Records.SetId(set), set, StoreFixture.Prepare(records), cancellationToken).WaitAsync(Bound, cancellationToken);

        // Assert
        Assert.Multiple(() =>
        {
            Assert.That(outcome.Error?.Kind, Is.EqualTo(IngestRejectionKind.UnstorableValue));
            Assert.That(outcome.Error?.Message, Does.StartWith("records[2].label: contains U+0000"));
            Assert.That(outcome.Error?.RecordIndex, Is.EqualTo(2));
            Assert.That(storage.Records.ListSets(), Is.Empty, "nothing of the batch stored");
        });
    }

    [Test]
    public void Open_NothingListensOnThePort_FailsNamingTheSettingNeverThePassword()
    {
        // Arrange
        var port = FreePort();
        var connectionString = string.Create(CultureInfo.InvariantCulture, $"Host=127.0.0.1;Port={port};Database=chroma;Username=chroma;Password=pg-secret-4711;Timeout=3");

        // Act
        var ex = Assert.Throws<StorageStartException>(() => PostgresStorage.Open(connectionString, Clock, RecordChangeObservers.None));

        // Assert
        Assert.Multiple(() =>
        {
            Assert.That(ex!.Message, Does.StartWith("Chroma:Storage:ConnectionString (Chroma__Storage__ConnectionString): cannot connect to PostgreSQL at Host=127.0.0.1;Port="));
            Assert.That(ex.ToString(), Does.Not.Contain("pg-secret-4711"));
        });
    }

    [TestCase("Host=127.0.0.1;Port=not-a-port;Password=pg-secret-4711")]
    [TestCase("Host=127.0.0.1;Password=pg-secret-4711;NoSuchKey=1")]
    [TestCase("   ")]
    public void Open_MalformedConnectionString_FailsNamingTheSettingNeverThePassword(string connectionString)
    {
        var ex = Assert.Throws<StorageStartException>(() => PostgresStorage.Open(connectionString, Clock, RecordChangeObservers.None));

        Assert.Multiple(() =>
        {
            Assert.That(ex!.Message, Does.StartWith("Chroma:Storage:ConnectionString (Chroma__Storage__ConnectionString)"));
            Assert.That(ex.ToString(), Does.Not.Contain("pg-secret-4711"));
        });
    }

    private static long WaitingForAdvisoryLock(NpgsqlConnection connection)
    {
        using var command = new NpgsqlCommand("SELECT COUNT(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted;", connection);
        return (long)command.ExecuteScalar()!;
    }

    private static async Task WaitForAsync(Func<bool> condition, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(Bound);
        while (!condition())
        {
            await Task.Delay(20, timeout.Token);
        }
    }

    private static void Execute(NpgsqlConnection connection, string sql)
    {
        using var command = new NpgsqlCommand(sql, connection);
        command.ExecuteNonQuery();
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
