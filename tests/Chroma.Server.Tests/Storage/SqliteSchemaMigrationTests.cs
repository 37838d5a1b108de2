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
            Assert.That(SqliteSchema.CurrentVersion, Is.EqualTo(4));
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
}
