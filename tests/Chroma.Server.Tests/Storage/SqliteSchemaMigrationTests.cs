using System.Globalization;
using Chroma.Server.Storage.Sqlite.Internal;
using Chroma.Server.Tests.TestSupport;
using Microsoft.Data.Sqlite;

namespace Chroma.Server.Tests.Storage;

public sealed class SqliteSchemaMigrationTests
{
    [Test, CancelAfter(30_000)]
    public async Task Open_DatabaseOfSchemaOne_AddsTheScoreTablesAndKeepsEveryRecord(CancellationToken cancellationToken)
    {
        // Arrange: a store written by the previous server version (schema 1: no score tables).
        using var fixture = new StoreFixture();
        var set = Records.Set();
        await fixture.IngestAsync(set, Records.Sequence(10)).WaitAsync(cancellationToken);
        fixture.Storage.Dispose();
        using (var connection = new SqliteConnection($"Data Source={Path.Combine(fixture.Directory.Path, "chroma.db")};Pooling=False"))
        {
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = "DROP TABLE record_scores; DROP TABLE drift_history; ALTER TABLE embedding_sets DROP COLUMN metric; UPDATE schema_version SET version = 1;";
            command.ExecuteNonQuery();
        }

        // Act
        fixture.Reopen();

        // Assert
        var stored = fixture.RequireSet(set);
        Assert.Multiple(() =>
        {
            Assert.That(fixture.Store.ListSets().Single().TotalRecords, Is.EqualTo(10));
            Assert.That(fixture.Scores.ReadScores(stored), Is.Empty, "record_scores exists again");
            Assert.That(fixture.Scores.ReadDriftHistory(stored, 10), Is.Empty, "drift_history exists again");
            Assert.That(stored.Metric, Is.EqualTo(Protocol.V1.DistanceMetric.L2));
            Assert.That(SqliteSchema.CurrentVersion, Is.EqualTo(6));
        });
    }

    [Test, CancelAfter(30_000)]
    public async Task Open_DatabaseOfSchemaTwo_ReadsEverySetAsL2AndAcceptsCosineSetsAfter(CancellationToken cancellationToken)
    {
        // Arrange: a store written before sets had a metric (schema 2: no embedding_sets.metric column).
        using var fixture = new StoreFixture();
        var old = Records.Set();
        await fixture.IngestAsync(old, Records.Sequence(5, start: 1)).WaitAsync(cancellationToken);
        fixture.Storage.Dispose();
        using (var connection = new SqliteConnection($"Data Source={Path.Combine(fixture.Directory.Path, "chroma.db")};Pooling=False"))
        {
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = "ALTER TABLE embedding_sets DROP COLUMN metric; UPDATE schema_version SET version = 2;";
            command.ExecuteNonQuery();
        }

        // Act
        fixture.Reopen();
        var cosine = Records.Set(model: "new");
        cosine.Metric = Protocol.V1.DistanceMetric.Cosine;
        var created = await fixture.IngestAsync(cosine, Records.Sequence(2, start: 1)).WaitAsync(cancellationToken);
        var oldAsCosine = old.Clone();
        oldAsCosine.Metric = Protocol.V1.DistanceMetric.Cosine;
        var toOld = await fixture.IngestAsync(oldAsCosine, Records.Sequence(1, start: 9)).WaitAsync(cancellationToken);

        // Assert
        Assert.Multiple(() =>
        {
            Assert.That(fixture.RequireSet(old).Metric, Is.EqualTo(Protocol.V1.DistanceMetric.L2), "what it was searched by");
            Assert.That(fixture.Store.ListSets().Single(s => s.Set.SetId == "model/1/fc").TotalRecords, Is.EqualTo(5));
            Assert.That(created.Error, Is.Null);
            Assert.That(fixture.RequireSet(cosine).Metric, Is.EqualTo(Protocol.V1.DistanceMetric.Cosine));
            Assert.That(toOld.Error?.Kind, Is.EqualTo(Chroma.Server.Storage.IngestRejectionKind.MetricMismatch), "the old set stays L2");
        });
    }

    [TestCase("SELECT sequence FROM records r WHERE r.set_key = 1 AND r.deleted = 0 AND r.sequence > 0 ORDER BY r.sequence LIMIT 101;")]
    [TestCase("SELECT sequence, dataset, embedding FROM records WHERE set_key = 1 AND deleted = 0 AND sequence > 0 ORDER BY sequence;")]
    [CancelAfter(30_000)]
    public async Task Open_DatabaseOfSchemaFour_SetOrderedReadsWalkAnIndexInsteadOfSortingTheSet(string query, CancellationToken cancellationToken)
    {
        // Arrange: a store of schema 4 (before records_by_set_sequence): a page without a dataset filter, and the
        // index tail's read, sorted every record of the set (a temporary B-tree) on each call.
        // Act: the store reopened, which migrates it
        var (before, after) = await PlansBeforeAndAfterMigrationAsync("records_by_set_sequence", 4, query, cancellationToken);

        // Assert
        Assert.Multiple(() =>
        {
            Assert.That(before, Does.Contain("TEMP B-TREE"), "schema 4 sorts the set");
            Assert.That(after, Does.Contain("records_by_set_sequence").And.Not.Contain("TEMP B-TREE"));
        });
    }

    [Test, CancelAfter(30_000)]
    public async Task Open_DatabaseOfSchemaFive_DeletedSequencesReadFromTheDeletedRowsIndex(CancellationToken cancellationToken)
    {
        // Arrange: a store of schema 5 (before records_deleted_rows): "the set's sequences deleted up to S" (a saved
        // index's load, a Studio map update) walked every record of the set up to S.
        const string query = "SELECT sequence FROM records WHERE set_key = 1 AND deleted = 1 AND sequence <= 100;";
        // Act: the store reopened, which migrates it
        var (before, after) = await PlansBeforeAndAfterMigrationAsync("records_deleted_rows", 5, query, cancellationToken);

        // Assert
        Assert.Multiple(() =>
        {
            Assert.That(before, Does.Not.Contain("records_deleted_rows"));
            Assert.That(after, Does.Contain("records_deleted_rows"));
        });
    }

    // A store of schema `version` without `index` (what that version had), the plan of `query` there, and after the
    // store reopened (migrated).
    private static async Task<(string Before, string After)> PlansBeforeAndAfterMigrationAsync(string index, int version, string query, CancellationToken cancellationToken)
    {
        using var fixture = new StoreFixture();
        await fixture.IngestAsync(Records.Set(), Records.Sequence(10)).WaitAsync(cancellationToken);
        fixture.Storage.Dispose();
        var path = Path.Combine(fixture.Directory.Path, "chroma.db");
        using (var connection = new SqliteConnection($"Data Source={path};Pooling=False"))
        {
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = string.Create(CultureInfo.InvariantCulture, $"DROP INDEX {index}; UPDATE schema_version SET version = {version};");
            command.ExecuteNonQuery();
        }

        var before = QueryPlan(path, query);
        fixture.Reopen();
        fixture.Storage.Dispose();
        return (before, QueryPlan(path, query));
    }

    private static string QueryPlan(string path, string query)
    {
        using var connection = new SqliteConnection($"Data Source={path};Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "EXPLAIN QUERY PLAN " + query;
        using var reader = command.ExecuteReader();
        var lines = new List<string>();
        while (reader.Read())
        {
            lines.Add(reader.GetString(3));
        }

        return string.Join("\n", lines);
    }
}
