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
            command.CommandText = "DROP TABLE record_scores; DROP TABLE drift_history; UPDATE schema_version SET version = 1;";
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
            Assert.That(SqliteSchema.CurrentVersion, Is.EqualTo(3));
        });
    }
}
