using Chroma.Server.Storage;
using Chroma.Server.Tests.TestSupport;
using Npgsql;

namespace Chroma.Server.Tests.Storage;

/// <summary>
/// Score stamps on PostgreSQL (schema 10): a replica that serves another's passes reads only the scores written since
/// its last read, and what it reads is what a whole read would give.
/// </summary>
[TestFixture]
[Category("postgres")]
public sealed class PostgresScoreStampTests : PostgresReplicaPairTest
{
    [Test, CancelAfter(60_000)]
    public async Task VisitScoresChangedAfter_WritesAfterTheStamp_OnlyTheirRowsWithTheNewestStamp(CancellationToken cancellationToken)
    {
        // Arrange: a writes scores of the first 10 records; b reads the stamp.
        var set = await SeedAsync();
        var scorable = A.Scores.ReadScorable(set, 0, 100);
        var lease = (await A.Coordination.TryAcquireAsync(set, "a", Lease, cancellationToken))!;
        await A.Scores.SaveScoresAsync(set, "v1", Rows(scorable.Take(10), 1.0), replaceExisting: false, lease, cancellationToken);
        var (reader, other) = ((IScoreChangeReader)B.Scores, (IScoreChangeReader)A.Scores);
        var first = reader.ReadLatestScoreStamp(set);

        // Act: scores of 5 more records, and 2 of the first rescored.
        await A.Scores.SaveScoresAsync(set, "v1", Rows(scorable.Skip(10).Take(5), 2.0), replaceExisting: false, lease, cancellationToken);
        await A.Scores.SaveScoresAsync(set, "v1", Rows(scorable.Take(2), 3.0), replaceExisting: false, lease, cancellationToken);
        var changed = new List<PersistedScore>();
        var through = reader.VisitScoresChangedAfter(set, first, changed.Add);
        var none = new List<PersistedScore>();
        var again = reader.VisitScoresChangedAfter(set, through, none.Add);

        // Assert
        var expected = scorable.Take(2).Concat(scorable.Skip(10).Take(5)).Select(r => r.Sequence).Order();
        Assert.Multiple(() =>
        {
            Assert.That(first, Is.GreaterThan(0));
            Assert.That(changed.Select(s => s.Record.Sequence), Is.EqualTo(expected), "the rows written after the stamp, in sequence order");
            Assert.That(through, Is.EqualTo(other.ReadLatestScoreStamp(set)), "the newest stamp of the set");
            Assert.That(through, Is.GreaterThan(first));
            Assert.That((none.Count, again), Is.EqualTo((0, through)), "nothing after the newest stamp");
        });
    }

    [Test, CancelAfter(60_000)]
    public async Task VisitScoresChangedAfter_RecordDeletedAfterItsScore_LeftOutAsAWholeReadLeavesItOut(CancellationToken cancellationToken)
    {
        // Arrange
        var set = await SeedAsync();
        var scorable = A.Scores.ReadScorable(set, 0, 100);
        var lease = (await A.Coordination.TryAcquireAsync(set, "a", Lease, cancellationToken))!;
        var reader = (IScoreChangeReader)B.Scores;
        var before = reader.ReadLatestScoreStamp(set);
        await A.Scores.SaveScoresAsync(set, "v1", Rows(scorable, 1.0), replaceExisting: false, lease, cancellationToken);

        // Act
        await B.Records.DeleteAsync(set, [scorable[3].Id], cancellationToken);
        var changed = new List<PersistedScore>();
        reader.VisitScoresChangedAfter(set, before, changed.Add);

        // Assert
        Assert.Multiple(() =>
        {
            Assert.That(before, Is.Zero, "no scores yet");
            Assert.That(changed.Select(s => s.Record.Sequence), Is.EqualTo(B.Scores.ReadScores(set).Select(s => s.Record.Sequence)));
            Assert.That(changed.Select(s => s.Record.Sequence), Does.Not.Contain(scorable[3].Sequence));
            Assert.That(changed, Has.Count.EqualTo(scorable.Count - 1));
        });
    }

    [Test, CancelAfter(60_000)]
    public async Task VisitScoresChangedAfter_ScoresWrittenAsAnEarlierServerWritesThem_ReadLikeAnyOther(CancellationToken cancellationToken)
    {
        // Arrange: a rolling upgrade. A server of schema 9 still holds the lease after a new one migrated the database:
        // its writes name no stamp, and its updates leave the stamp as it was.
        var set = await SeedAsync();
        var scorable = A.Scores.ReadScorable(set, 0, 100);
        var lease = (await A.Coordination.TryAcquireAsync(set, "a", Lease, cancellationToken))!;
        await A.Scores.SaveScoresAsync(set, "v1", Rows(scorable.Take(10), 1.0), replaceExisting: false, lease, cancellationToken);
        var reader = (IScoreChangeReader)B.Scores;
        var first = reader.ReadLatestScoreStamp(set);

        // Act: new rows for 5 records, and 2 rows rescored in place.
        await WriteAsSchema9ServerAsync(set, [.. scorable.Skip(10).Take(5), .. scorable.Take(2)], cancellationToken);
        var changed = new List<PersistedScore>();
        var through = reader.VisitScoresChangedAfter(set, first, changed.Add);

        // Assert: before, its new rows had stamp 0 and its updates kept theirs, so a follower never read them (probe I, F1).
        var expected = scorable.Take(2).Concat(scorable.Skip(10).Take(5)).Select(r => r.Sequence).Order();
        Assert.Multiple(() =>
        {
            Assert.That(changed.Select(s => s.Record.Sequence), Is.EqualTo(expected));
            Assert.That(changed.Where(s => s.Record.Sequence == scorable[0].Sequence).Select(s => s.TrainingVersion), Is.EqualTo(new[] { "v9" }));
            Assert.That(through, Is.GreaterThan(first));
        });
    }

    // The score write of a server before schema 10, as it was (less its lease check).
    private async Task WriteAsSchema9ServerAsync(StoredEmbeddingSet set, IReadOnlyList<ScorableRecord> records, CancellationToken cancellationToken)
    {
        await using var connection = new NpgsqlConnection(Database.ConnectionString);
        await connection.OpenAsync(cancellationToken);
        foreach (var record in records)
        {
            await using var write = new NpgsqlCommand("""
                INSERT INTO record_scores (set_key, sequence, training_version, score, signals, reasons, measurement, scored_ms)
                VALUES ($1, $2, 'v9', 9.0, '[]', '[]', '{}', 1)
                ON CONFLICT (set_key, sequence) DO UPDATE SET
                    training_version = EXCLUDED.training_version, score = EXCLUDED.score, signals = EXCLUDED.signals,
                    reasons = EXCLUDED.reasons, measurement = EXCLUDED.measurement, scored_ms = EXCLUDED.scored_ms;
                """, connection);
            write.Parameters.Add(new NpgsqlParameter { Value = set.Key });
            write.Parameters.Add(new NpgsqlParameter { Value = record.Sequence });
            await write.ExecuteNonQueryAsync(cancellationToken);
        }
    }

    private static RecordScoreRow[] Rows(IEnumerable<ScorableRecord> records, double score) =>
        [.. records.Select(r => new RecordScoreRow(r.Sequence, score, "[]", "[]", "{}"))];
}
