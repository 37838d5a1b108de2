using Chroma.Server.Storage;
using Chroma.Server.Tests.TestSupport;

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

    private static RecordScoreRow[] Rows(IEnumerable<ScorableRecord> records, double score) =>
        [.. records.Select(r => new RecordScoreRow(r.Sequence, score, "[]", "[]", "{}"))];
}
