using Chroma.Server.Storage;
using Chroma.Server.Tests.TestSupport;

namespace Chroma.Server.Tests.Storage;

/// <summary>
/// The scoring lease on PostgreSQL, as two replicas (two stores on one database, one fake clock) see it: one holder at
/// a time, takeover after expiry with a new generation, and a previous holder's writes refused.
/// </summary>
[TestFixture]
[Category("postgres")]
public sealed class PostgresScoringLeaseTests : PostgresReplicaPairTest
{
    [Test, CancelAfter(60_000)]
    public async Task TryAcquireAsync_HeldByAnother_RefusedUntilExpiryThenTakenOverWithNextGeneration(CancellationToken cancellationToken)
    {
        // Arrange
        var set = await SeedAsync();
        var first = await A.Coordination.TryAcquireAsync(set, "a", Lease, cancellationToken);

        // Act
        var whileHeld = await B.Coordination.TryAcquireAsync(set, "b", Lease, cancellationToken);
        var renewedByHolder = await A.Coordination.TryAcquireAsync(set, "a", Lease, cancellationToken);
        Clock.Advance(Lease + TimeSpan.FromMilliseconds(1));
        var takenOver = await B.Coordination.TryAcquireAsync(set, "b", Lease, cancellationToken);
        var renewOfOld = await A.Coordination.RenewAsync(first!, Lease, cancellationToken);

        // Assert
        Assert.Multiple(() =>
        {
            Assert.That(first?.Generation, Is.EqualTo(1));
            Assert.That(whileHeld, Is.Null, "one holder at a time");
            Assert.That(renewedByHolder?.Generation, Is.EqualTo(1), "the holder keeps its generation");
            Assert.That(takenOver?.Generation, Is.EqualTo(2), "a takeover raises the fencing token");
            Assert.That(renewOfOld, Is.False, "the old holder cannot renew a lease it lost");
            Assert.That(A.Coordination.ReadWatermarks().Single().Holder, Is.EqualTo("b"));
        });
    }

    [Test, CancelAfter(60_000)]
    public async Task SaveScoresAsync_StaleGeneration_RefusedAndNewerScoresKept(CancellationToken cancellationToken)
    {
        // Arrange: a scores under generation 1, its lease expires, b takes over and stores newer scores.
        var set = await SeedAsync();
        var rows = A.Scores.ReadScorable(set, 0, 100);
        var stale = (await A.Coordination.TryAcquireAsync(set, "a", Lease, cancellationToken))!;
        await A.Scores.SaveScoresAsync(set, "v1", Rows(rows, 1.0), replaceExisting: false, stale, cancellationToken);
        Clock.Advance(Lease + TimeSpan.FromMilliseconds(1));
        var current = (await B.Coordination.TryAcquireAsync(set, "b", Lease, cancellationToken))!;
        await B.Scores.SaveScoresAsync(set, "v2", Rows(rows, 2.0), replaceExisting: true, current, cancellationToken);

        // Act
        var refused = Assert.ThrowsAsync<ScoringLeaseLostException>(
            () => A.Scores.SaveScoresAsync(set, "v1", Rows(rows, 9.0), replaceExisting: true, stale, cancellationToken));
        var driftRefused = Assert.ThrowsAsync<ScoringLeaseLostException>(
            () => A.Scores.SaveDriftAsync(set, new DriftPoint(1, 0.5, 0.5, 2, 2, 1), 10, TimeSpan.Zero, stale, cancellationToken));
        var publishedByStale = await A.Coordination.PublishPassAsync(stale, 100, 7, 0, cancellationToken);
        var publishedByCurrent = await B.Coordination.PublishPassAsync(current, 100, 3, 0, cancellationToken);

        // Assert
        var stored = B.Scores.ReadScores(set);
        var mark = B.Coordination.ReadWatermarks().Single();
        Assert.Multiple(() =>
        {
            Assert.That(refused, Is.Not.Null);
            Assert.That(driftRefused, Is.Not.Null);
            Assert.That(stored.Select(s => s.TrainingVersion).Distinct(), Is.EqualTo(new[] { "v2" }), "nothing of the stale write stands");
            Assert.That(stored, Has.Count.EqualTo(rows.Count));
            Assert.That(B.Scores.ReadDriftHistory(set, 10), Is.Empty);
            Assert.That(publishedByStale, Is.Null);
            Assert.That(publishedByCurrent, Is.EqualTo(1));
            Assert.That((mark.ScoresRevision, mark.CoveredThrough, mark.Generation), Is.EqualTo((1L, 100L, 2L)));
            Assert.That(mark.DeletesApplied, Is.EqualTo(3), "the stale holder's deletes_applied is refused with its pass");
        });
    }

    [Test, CancelAfter(60_000)]
    public async Task ReadWatermarks_DeleteAndIngestThroughOneReplica_OtherSeesSequenceAndDeleteCount(CancellationToken cancellationToken)
    {
        // Arrange
        var set = await SeedAsync();
        var before = B.Coordination.ReadWatermarks().Single();
        var ids = A.Records.GetRecords(set, new RecordQuery(RecordSelection.All, 0, 2, false)).Records.Select(r => r.Record.Id).ToList();

        // Act
        await A.Records.DeleteAsync(set, ids, cancellationToken);
        await A.Records.IngestAsync(set.SetId, Records.Set(), StoreFixture.Prepare(Records.Sequence(3, start: 50)), cancellationToken);
        var after = B.Coordination.ReadWatermarks().Single();

        // Assert
        Assert.Multiple(() =>
        {
            Assert.That(after.DeletedCount - before.DeletedCount, Is.EqualTo(2));
            // The delete takes one change sequence of the set (its tombstones carry it), the three inserts one each.
            Assert.That(after.LastSequence - before.LastSequence, Is.EqualTo(4));
            Assert.That(after.Holder, Is.Null);
            Assert.That(after.CoveredThrough, Is.EqualTo(-1));
        });
    }

    [Test, CancelAfter(60_000)]
    public async Task ReadDeletesAsync_DeletesThroughBothReplicas_EachReadReturnsTheRecordsDeletedAfterItsStampOnce(CancellationToken cancellationToken)
    {
        // Arrange: a holder that has applied every delete through the stamp it read; then deletes through both replicas.
        var set = await SeedAsync();
        var records = A.Records.GetRecords(set, new RecordQuery(RecordSelection.All, 0, 5, false)).Records;
        await A.Records.DeleteAsync(set, [records[0].Record.Id], cancellationToken);
        var first = await B.Coordination.ReadDeletesAsync(set, long.MaxValue, cancellationToken);

        // Act
        await A.Records.DeleteAsync(set, [records[1].Record.Id, records[2].Record.Id], cancellationToken);
        await B.Records.DeleteAsync(set, [records[3].Record.Id], cancellationToken);
        var second = await B.Coordination.ReadDeletesAsync(set, first.ThroughStamp, cancellationToken);
        var third = await A.Coordination.ReadDeletesAsync(set, second.ThroughStamp, cancellationToken);
        var mark = A.Coordination.ReadWatermarks().Single();

        // Assert
        Assert.Multiple(() =>
        {
            Assert.That((first.DeletedCount, first.Sequences.Count), Is.EqualTo((1L, 0)), "MaxValue reads the stamp and the count alone");
            Assert.That(second.Sequences, Is.EquivalentTo(new[] { records[1].Sequence, records[2].Sequence, records[3].Sequence }));
            Assert.That(second.DeletedCount, Is.EqualTo(4));
            Assert.That(second.ThroughStamp, Is.EqualTo(mark.LastSequence));
            Assert.That(third.Sequences, Is.Empty, "nothing deleted after the stamp");
            Assert.That(third.DeletedCount, Is.EqualTo(mark.DeletedCount));
        });
    }

    [Test, CancelAfter(60_000)]
    public async Task ReadAcknowledgedAsync_DeletesThroughTheOtherReplica_NewestRecordNotTheDeleteStampAndTheCount(CancellationToken cancellationToken)
    {
        // Arrange: records stored through A; then deletes through B, which raise the set's change stamp past them.
        var set = await SeedAsync();
        var records = A.Records.GetRecords(set, new RecordQuery(RecordSelection.All, 0, 100, false)).Records;
        var before = await B.Coordination.ReadAcknowledgedAsync(set, cancellationToken);
        await B.Records.DeleteAsync(set, [records[^1].Record.Id, records[0].Record.Id], cancellationToken);

        // Act
        var after = await B.Coordination.ReadAcknowledgedAsync(set, cancellationToken);
        var mark = A.Coordination.ReadWatermarks().Single();

        // Assert
        Assert.Multiple(() =>
        {
            Assert.That(before, Is.EqualTo(new SetAcknowledged(records.Max(r => r.Sequence), 0)));
            Assert.That(after.LatestRecord, Is.EqualTo(records.Max(r => r.Sequence)), "a deleted record still counts as stored; a delete stamp is no record");
            Assert.That(mark.LastSequence, Is.GreaterThan(after.LatestRecord), "the deletes raised the change stamp");
            Assert.That(after.DeletedCount, Is.EqualTo(2));
        });
    }

    private static RecordScoreRow[] Rows(IReadOnlyList<ScorableRecord> records, double score) =>
        [.. records.Select(r => new RecordScoreRow(r.Sequence, score, "[]", "[]", "{}"))];
}
