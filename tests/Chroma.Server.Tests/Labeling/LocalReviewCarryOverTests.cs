using Chroma.Protocol.V1;
using Chroma.Server.Tests.Recommendations.Scheduling;
using Chroma.Server.Tests.Reliability;
using Chroma.Server.Tests.Storage;
using Chroma.Server.Tests.TestSupport;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Chroma.Server.Tests.Labeling;

/// <summary>
/// Upgrading a PostgreSQL deployment from a server before December 5 (schema 7, 2549112), which kept the labeling loop in
/// each replica's own <c>chroma.db</c> (the file here is made with that store's DDL and statements, copied below): the
/// first start carries its labels, review states, promotions and audit trail into PostgreSQL, once. Before (outside-in
/// upgrade probe T, T1), an upgraded server ignored the file: 40 labels per set became 0, 124 events 0, and reviewed
/// records came back into the ranking.
/// </summary>
[TestFixture]
[Category("postgres")]
public sealed class LocalReviewCarryOverTests : PostgresDatabaseTest
{
    private const long Past = 1_700_000_000_000;
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(60);
    private static readonly EmbeddingSetDescriptor Set = Records.Set(dimension: 4, model: "carry-over");
    private static readonly string SetId = Records.SetId(Set);

    [Test, CancelAfter(180_000)]
    public async Task Start_LocalReviewsOfAnOldServer_LabelsStatesPromotionsAndTrailServedFromPostgres(CancellationToken cancellationToken)
    {
        // Arrange: records in PostgreSQL; the old replica's file labeled two (one promoted, one relabeled), dismissed one, and
        // labeled a record that is no longer stored.
        var (setKey, production) = await SeedAsync();
        using var directory = new TempDirectory();
        using (var old = OldLocalStore.Create(directory.Path))
        {
            old.Label(setKey, production[0], "a", "ada", Past, "first look");
            old.Label(setKey, production[1], "b", "ada", Past + 1, null);
            old.State(setKey, production[2], 2, "bob", Past + 2);
            old.Promote(setKey, production[0].Sequence, "copy-of-0", "a", "cy", Past + 3);
            old.Label(setKey, production[1], "c", "cy", Past + 4, null);
            old.Label(setKey, (9_999, "gone"), "z", "ada", Past + 5, null);
        }

        // Act
        await using var server = await StartAsync(directory.Path);

        // Assert
        var labeling = new Chroma.Protocol.V1.Labeling.LabelingClient(server.Invoker);
        var labeled = (await labeling.GetLabeledRecordsAsync(new GetLabeledRecordsRequest { SetId = SetId, PageSize = 100 }, cancellationToken: cancellationToken)).Records;
        var history = (await labeling.GetReviewHistoryAsync(new GetReviewHistoryRequest { SetId = SetId, PageSize = 100 }, cancellationToken: cancellationToken)).Events;
        var ranking = await ScoringFailureReportingTests.WaitAsync(new Query.QueryClient(server.Invoker), SetId);
        var carried = server.Logs.Entries.Where(e => e.Event.Id == 32).Select(e => e.Message).ToArray();
        Assert.Multiple(() =>
        {
            Assert.That(labeled.Select(r => (r.Record.Id, r.Review.Label, r.Review.LabeledBy)),
                Is.EqualTo(new[] { (production[0].Id, "a", "ada"), (production[1].Id, "c", "cy") }));
            Assert.That(labeled[0].Review.Note, Is.EqualTo("first look"));
            Assert.That((labeled[0].Review.PromotedRecordId, labeled[0].Review.PromotedBy, labeled[0].Review.PromotedUnixMs), Is.EqualTo(("copy-of-0", "cy", Past + 3)));
            Assert.That(labeled[1].Review.PromotedRecordId, Is.Empty, "the relabeled record was never promoted");
            Assert.That(history.Select(e => (e.RecordId, e.Action, e.Actor, e.UnixMs)), Is.EqualTo(new[]
            {
                (production[0].Id, "label", "ada", Past), (production[1].Id, "label", "ada", Past + 1), (production[2].Id, "dismiss", "bob", Past + 2),
                (production[0].Id, "promote", "cy", Past + 3), (production[1].Id, "label", "cy", Past + 4),
            }));
            Assert.That(ranking.Recommendations.Select(r => r.Record.Record.Id), Is.EquivalentTo(production.Skip(3).Select(p => p.Id)),
                "the labeled and the dismissed records are out of the ranking");
            Assert.That(carried, Has.Length.EqualTo(1));
            Assert.That(carried.SingleOrDefault(), Does.Contain("carried 3 reviews (2 labeled) and 5 audit events").And.Contain("skipped 1 reviews and 1 events of records no longer stored"));
        });
    }

    [Test, CancelAfter(180_000)]
    public async Task Start_AgainAndOnAnotherReplicaWithTheSameRows_CarriesNothingTwice(CancellationToken cancellationToken)
    {
        // Arrange: three replicas' files with the same rows (copies), as old replicas that labeled the same records.
        var (setKey, production) = await SeedAsync();
        using var first = new TempDirectory();
        using var second = new TempDirectory();
        using var third = new TempDirectory();
        using (var old = OldLocalStore.Create(first.Path))
        {
            old.Label(setKey, production[0], "a", "ada", Past, null);
            old.State(setKey, production[1], 1, "bob", Past + 1);
        }

        File.Copy(Path.Combine(first.Path, "chroma.db"), Path.Combine(second.Path, "chroma.db"));
        File.Copy(Path.Combine(first.Path, "chroma.db"), Path.Combine(third.Path, "chroma.db"));
        await (await StartAsync(first.Path)).DisposeAsync();

        // Act: the first replica again, then the other two at once.
        await using var again = await StartAsync(first.Path);
        var startsAtOnce = await Task.WhenAll(StartAsync(second.Path), StartAsync(third.Path));
        await using var onSecond = startsAtOnce[0];
        await using var onCopy = startsAtOnce[1];

        // Assert
        var history = (await new Chroma.Protocol.V1.Labeling.LabelingClient(onSecond.Invoker).GetReviewHistoryAsync(
            new GetReviewHistoryRequest { SetId = SetId, PageSize = 100 }, cancellationToken: cancellationToken)).Events;
        var secondLines = onSecond.Logs.Entries.Concat(onCopy.Logs.Entries).Where(e => e.Event.Id == 32).Select(e => e.Message).ToArray();
        Assert.Multiple(() =>
        {
            Assert.That(history.Select(e => (e.RecordId, e.Action)), Is.EqualTo(new[] { (production[0].Id, "label"), (production[1].Id, "review") }));
            Assert.That(again.Logs.Entries.Where(e => e.Event.Id is 31 or 32), Is.Empty, "a carried file is skipped");
            Assert.That(secondLines, Has.Length.EqualTo(2));
            Assert.That(secondLines, Has.All.Contain("carried 0 reviews (0 labeled) and 0 audit events"));
        });
    }

    [Test, CancelAfter(180_000)]
    public async Task Start_ReviewsWrittenMeanwhileInPostgres_NewerOfEachKeptAndBothTrailsKept(CancellationToken cancellationToken)
    {
        // Arrange: through an upgraded replica (now), record 0 is labeled after the old file's label and record 1 before it.
        var (setKey, production) = await SeedAsync();
        await using (var upgraded = await StartAsync(dataDirectory: null))
        {
            await new Chroma.Protocol.V1.Labeling.LabelingClient(upgraded.Invoker).LabelRecordsAsync(
                new LabelRecordsRequest { SetId = SetId, Reviewer = "new", Labels = { new RecordLabel { RecordId = production[0].Id, Label = "pg" }, new RecordLabel { RecordId = production[1].Id, Label = "pg" } } },
                cancellationToken: cancellationToken);
        }

        var later = DateTimeOffset.UtcNow.AddDays(1).ToUnixTimeMilliseconds();
        using var directory = new TempDirectory();
        using (var old = OldLocalStore.Create(directory.Path))
        {
            old.Label(setKey, production[0], "local", "old", Past, null);
            old.Label(setKey, production[1], "local", "old", later, null);
        }

        // Act
        await using var server = await StartAsync(directory.Path);

        // Assert
        var labeling = new Chroma.Protocol.V1.Labeling.LabelingClient(server.Invoker);
        var labeled = (await labeling.GetLabeledRecordsAsync(new GetLabeledRecordsRequest { SetId = SetId, PageSize = 100 }, cancellationToken: cancellationToken)).Records;
        var trail = (await labeling.GetReviewHistoryAsync(new GetReviewHistoryRequest { SetId = SetId, PageSize = 100 }, cancellationToken: cancellationToken)).Events;
        Assert.Multiple(() =>
        {
            Assert.That(labeled.Select(r => (r.Record.Id, r.Review.Label, r.Review.LabeledBy)), Is.EqualTo(new[] { (production[0].Id, "pg", "new"), (production[1].Id, "local", "old") }));
            Assert.That(trail.Select(e => (e.RecordId, e.Detail, e.Actor)), Is.EquivalentTo(new[]
            {
                (production[0].Id, "pg", "new"), (production[1].Id, "pg", "new"), (production[0].Id, "local", "old"), (production[1].Id, "local", "old"),
            }));
            Assert.That(server.Logs.Entries.Where(e => e.Event.Id == 32).Select(e => e.Message).SingleOrDefault(),
                Does.Contain("carried 1 reviews (1 labeled) and 2 audit events").And.Contain("kept 1 reviews newer in PostgreSQL"));
        });
    }

    [Test, CancelAfter(180_000)]
    public async Task Start_TwoSetsWroteTheSameSequenceInTheOldFile_EachRecordGetsItsOwnReview(CancellationToken cancellationToken)
    {
        // Arrange: both sets number their records from 1, so their first production records share a sequence; the old
        // table was keyed by the sequence alone, and the other set's dismissal overwrote this set's label row.
        var other = Records.Set(dimension: 4, model: "carry-over-other");
        var (setKey, production) = await SeedAsync();
        var (otherKey, otherProduction) = await SeedAsync(other);
        Assert.That(otherProduction[0].Sequence, Is.EqualTo(production[0].Sequence), "the arrangement needs a shared sequence");
        using var directory = new TempDirectory();
        using (var old = OldLocalStore.Create(directory.Path))
        {
            old.Label(setKey, production[0], "a", "ada", Past, "mine");
            old.State(otherKey, otherProduction[0], 2, "bob", Past + 1);
        }

        // Act
        await using var server = await StartAsync(directory.Path);

        // Assert
        var query = new Query.QueryClient(server.Invoker);
        var here = await ReviewOfAsync(query, SetId, production[0].Id, cancellationToken);
        var there = await ReviewOfAsync(query, Records.SetId(other), otherProduction[0].Id, cancellationToken);
        Assert.Multiple(() =>
        {
            Assert.That((here?.State, here?.Label, here?.Note), Is.EqualTo((ReviewState.Reviewed, "a", "mine")), "the label stays its record's");
            Assert.That((there?.State, there?.ReviewedBy, there?.Label), Is.EqualTo((ReviewState.Dismissed, "bob", "")), "the other set's dismissal is its own record's");
        });
    }

        [Test, CancelAfter(180_000)]
    public async Task Start_FileWrittenAgainstAnotherDatabase_RefusedWithAWarningAndNothingCarried(CancellationToken cancellationToken)
    {
        // Arrange: the file names a record id this set does not hold at that sequence.
        var (setKey, production) = await SeedAsync();
        using var directory = new TempDirectory();
        using (var old = OldLocalStore.Create(directory.Path))
        {
            old.Label(setKey, production[0], "a", "ada", Past, null);
            old.Label(setKey, (production[1].Sequence, "someone-else"), "b", "ada", Past, null);
        }

        // Act
        await using var server = await StartAsync(directory.Path);

        // Assert
        var labeled = (await new Chroma.Protocol.V1.Labeling.LabelingClient(server.Invoker).GetLabeledRecordsAsync(
            new GetLabeledRecordsRequest { SetId = SetId, PageSize = 100 }, cancellationToken: cancellationToken)).Records;
        var warning = server.Logs.Entries.SingleOrDefault(e => e.Event.Id == 33);
        Assert.Multiple(() =>
        {
            Assert.That(labeled, Is.Empty);
            Assert.That(warning?.Level, Is.EqualTo(LogLevel.Warning));
            Assert.That(warning?.Message, Does.Contain("someone-else").And.Contain(SetId));
            Assert.That(OldLocalStore.CountReviews(directory.Path), Is.EqualTo(2), "the file's rows stay");
        });
    }

    private static async Task<Chroma.Protocol.V1.RecordReview?> ReviewOfAsync(Query.QueryClient query, string setId, string id, CancellationToken cancellationToken)
    {
        var page = await query.GetRecordsAsync(
            new GetRecordsRequest { SetId = setId, Filter = new RecordFilter { Dataset = "production" }, PageSize = 100 }, cancellationToken: cancellationToken);
        return page.Records.SingleOrDefault(r => r.Record.Id == id)?.Review;
    }

    // Records in PostgreSQL through a server of this version: the set's key and its production records' sequences and ids.
    private async Task<(long SetKey, (long Sequence, string Id)[] Production)> SeedAsync(EmbeddingSetDescriptor? set = null)
    {
        set ??= Set;
        await using (var seeder = await StartAsync(dataDirectory: null))
        {
            await ScoringFailureReportingTests.SeedAsync(seeder, set);
        }

        await using var connection = new NpgsqlConnection(Database.ConnectionString);
        await connection.OpenAsync().WaitAsync(Bound);
        await using var command = new NpgsqlCommand(
            "SELECT s.set_key, r.sequence, r.record_id FROM records r JOIN embedding_sets s USING (set_key) WHERE s.set_id = $1 AND r.dataset = 'production' ORDER BY r.sequence;",
            connection);
        command.Parameters.Add(new NpgsqlParameter { Value = Records.SetId(set) });
        await using var reader = await command.ExecuteReaderAsync().WaitAsync(Bound);
        long setKey = 0;
        var production = new List<(long, string)>();
        while (await reader.ReadAsync())
        {
            setKey = reader.GetInt64(0);
            production.Add((reader.GetInt64(1), reader.GetString(2)));
        }

        return (setKey, production.ToArray());
    }

    // A real server on this test's database (Information and up logged) on `dataDirectory` (null: a new one).
    private async Task<LoggedServer> StartAsync(string? dataDirectory) =>
        await PostgresReplicaServers.StartAsync(Database.ConnectionString, minimumLevel: LogLevel.Information, dataDirectory: dataDirectory).WaitAsync(Bound);

    /// <summary>The review store of servers before December 5 (76f0be9 to 64518cd): its DDL and its writes, as they were.</summary>
    private sealed class OldLocalStore : IDisposable
    {
        private const string Ddl = """
            CREATE TABLE IF NOT EXISTS record_reviews (
                sequence           INTEGER PRIMARY KEY,
                set_key            INTEGER NOT NULL,
                record_id          TEXT    NOT NULL,
                state              INTEGER NOT NULL DEFAULT 0,
                reviewed_by        TEXT,
                reviewed_ms        INTEGER NOT NULL DEFAULT 0,
                label              TEXT,
                labeled_by         TEXT,
                note               TEXT,
                labeled_ms         INTEGER NOT NULL DEFAULT 0,
                promoted_record_id TEXT,
                promoted_label     TEXT,
                promoted_by        TEXT,
                promoted_ms        INTEGER NOT NULL DEFAULT 0
            );
            CREATE INDEX IF NOT EXISTS record_reviews_by_state ON record_reviews (set_key, state, sequence);
            CREATE INDEX IF NOT EXISTS record_reviews_labeled ON record_reviews (set_key, sequence) WHERE label IS NOT NULL;
            CREATE TABLE IF NOT EXISTS review_events (
                event     INTEGER PRIMARY KEY AUTOINCREMENT,
                set_key   INTEGER NOT NULL,
                sequence  INTEGER NOT NULL,
                record_id TEXT    NOT NULL,
                action    TEXT    NOT NULL,
                actor     TEXT    NOT NULL,
                at_ms     INTEGER NOT NULL,
                detail    TEXT
            );
            CREATE INDEX IF NOT EXISTS review_events_by_set ON review_events (set_key, event);
            CREATE INDEX IF NOT EXISTS review_events_by_record ON review_events (set_key, record_id, event);
            """;

        private readonly SqliteConnection _connection;

        private OldLocalStore(SqliteConnection connection) => _connection = connection;

        public static OldLocalStore Create(string directory)
        {
            var connection = new SqliteConnection($"Data Source={Path.Combine(directory, "chroma.db")};Pooling=False");
            connection.Open();
            Execute(connection, "PRAGMA journal_mode = WAL;");
            Execute(connection, Ddl);
            return new OldLocalStore(connection);
        }

        public static long CountReviews(string directory)
        {
            using var connection = new SqliteConnection($"Data Source={Path.Combine(directory, "chroma.db")};Mode=ReadOnly;Pooling=False");
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = "SELECT count(*) FROM record_reviews;";
            return (long)command.ExecuteScalar()!;
        }

        public void Label(long setKey, (long Sequence, string Id) record, string label, string who, long at, string? note)
        {
            Execute(_connection, """
                INSERT INTO record_reviews (sequence, set_key, record_id, state, reviewed_by, reviewed_ms, label, labeled_by, note, labeled_ms)
                VALUES ($sequence, $set, $id, 1, $who, $at, $label, $who, $note, $at)
                ON CONFLICT (sequence) DO UPDATE SET
                    state = 1, reviewed_by = $who, reviewed_ms = $at, label = $label, labeled_by = $who, note = $note, labeled_ms = $at;
                """, ("$sequence", record.Sequence), ("$set", setKey), ("$id", record.Id), ("$who", who), ("$at", at), ("$label", label), ("$note", note));
            Audit(setKey, record, "label", who, at, label);
        }

        public void State(long setKey, (long Sequence, string Id) record, int state, string who, long at)
        {
            Execute(_connection, """
                INSERT INTO record_reviews (sequence, set_key, record_id, state, reviewed_by, reviewed_ms)
                VALUES ($sequence, $set, $id, $state, $who, $at)
                ON CONFLICT (sequence) DO UPDATE SET state = $state, reviewed_by = $who, reviewed_ms = $at;
                """, ("$sequence", record.Sequence), ("$set", setKey), ("$id", record.Id), ("$state", state), ("$who", who), ("$at", at));
            Audit(setKey, record, state switch { 1 => "review", 2 => "dismiss", _ => "reopen" }, who, at, null);
        }

        public void Promote(long setKey, long sequence, string training, string label, string who, long at)
        {
            using var command = _connection.CreateCommand();
            command.CommandText = """
                UPDATE record_reviews SET promoted_record_id = $training, promoted_label = $label, promoted_by = $who, promoted_ms = $at
                WHERE sequence = $sequence AND set_key = $set
                RETURNING record_id;
                """;
            foreach (var (name, value) in new (string, object)[] { ("$training", training), ("$label", label), ("$who", who), ("$at", at), ("$sequence", sequence), ("$set", setKey) })
            {
                command.Parameters.AddWithValue(name, value);
            }

            if (command.ExecuteScalar() is string recordId)
            {
                Audit(setKey, (sequence, recordId), "promote", who, at, training);
            }
        }

        public void Dispose() => _connection.Dispose();

        private void Audit(long setKey, (long Sequence, string Id) record, string action, string actor, long at, string? detail) =>
            Execute(_connection, """
                INSERT INTO review_events (set_key, sequence, record_id, action, actor, at_ms, detail)
                VALUES ($set, $sequence, $id, $action, $actor, $at, $detail);
                """, ("$set", setKey), ("$sequence", record.Sequence), ("$id", record.Id), ("$action", action), ("$actor", actor), ("$at", at), ("$detail", detail));

        private static void Execute(SqliteConnection connection, string sql, params (string Name, object? Value)[] parameters)
        {
            using var command = connection.CreateCommand();
            command.CommandText = sql;
            foreach (var (name, value) in parameters)
            {
                command.Parameters.AddWithValue(name, value ?? DBNull.Value);
            }

            command.ExecuteNonQuery();
        }
    }
}
