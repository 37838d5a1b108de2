using Chroma.Server.Storage;
using Chroma.Server.Tests.TestSupport;

namespace Chroma.Server.Tests.Storage;

/// <summary>
/// Batches that are not all new: the stores insert an all-new batch without first reading stored hashes, so a batch
/// holding re-sent records (or one id twice) must still store each new record once, count the rest, and report the
/// sequences it stored.
/// </summary>
public abstract partial class StoreContractTests
{
    [Test, CancelAfter(30_000)]
    public async Task IngestAsync_NewAndResentRecordsMixed_StoresNewOnceAndObserverSeesStoredSequences()
    {
        // Arrange: two stored records; then a batch of new, re-sent, new, and the second new one again (same content).
        var set = Records.Set();
        var stored = Records.Sequence(2);
        await _fixture.IngestAsync(set, stored);
        var fresh = Records.Sequence(2, start: 10);
        var batch = StoreFixture.Prepare([fresh[0], stored[1], fresh[1], fresh[1].Clone()]);
        var seen = new List<(long Sequence, string Id)>();
        _fixture.Observers.Add(new ChangeObserver(stored: (_, inserted) => seen.AddRange(inserted.Select(i => (i.Sequence, i.Record.Id)))));

        // Act
        var outcome = await _fixture.Store.IngestAsync(Records.SetId(set), set, batch);

        // Assert
        var page = _fixture.Store.GetRecords(_fixture.RequireSet(set), new RecordQuery(RecordSelection.All, 0, 10, false)).Records;
        Assert.Multiple(() =>
        {
            Assert.That(outcome, Is.EqualTo(new IngestOutcome(2, 2, null)));
            Assert.That(page.Select(r => r.Record.Id), Is.EqualTo(new[] { stored[0].Id, stored[1].Id, fresh[0].Id, fresh[1].Id }));
            Assert.That(seen, Is.EqualTo(page.Skip(2).Select(r => (r.Sequence, r.Record.Id))), "the observer hears the sequences that were stored");
            Assert.That(page[2].Sequence, Is.GreaterThan(page[1].Sequence));
        });
    }

    [Test, CancelAfter(30_000)]
    public async Task IngestAsync_AfterResentBatch_NextAllNewBatchGetsLargerSequences()
    {
        // Arrange: a re-sent batch takes the path that compares hashes; what it allocated must not be reused or skipped wrongly.
        var set = Records.Set();
        var first = Records.Sequence(3);
        await _fixture.IngestAsync(set, first);
        await _fixture.IngestAsync(set, [.. first, .. Records.Sequence(1, start: 20)]);

        // Act
        var outcome = await _fixture.IngestAsync(set, Records.Sequence(3, start: 40));

        // Assert
        var page = _fixture.Store.GetRecords(_fixture.RequireSet(set), new RecordQuery(RecordSelection.All, 0, 10, false)).Records;
        Assert.Multiple(() =>
        {
            Assert.That(outcome, Is.EqualTo(new IngestOutcome(3, 0, null)));
            Assert.That(page, Has.Count.EqualTo(7));
            Assert.That(page.Select(r => r.Sequence), Is.Ordered.Ascending.And.Unique);
        });
    }

    [Test, CancelAfter(30_000)]
    public async Task IngestAsync_DeletedIdWithOtherContent_RejectedSayingTheIdWasDeleted()
    {
        // Arrange: two stored records, the second deleted; then it again with other content, after a new one.
        var set = Records.Set();
        var stored = Records.Sequence(2);
        await _fixture.IngestAsync(set, stored);
        Assert.That(await _fixture.Store.DeleteAsync(_fixture.RequireSet(set), [stored[1].Id]), Is.EqualTo(1));
        var changed = stored[1].Clone();
        changed.Label = "other";

        // Act
        var resent = await _fixture.IngestAsync(set, stored[1]);
        var reused = await _fixture.IngestAsync(set, Records.Sequence(1, start: 10)[0], changed);
        var conflicting = stored[0].Clone();
        conflicting.Label = "other";
        var conflict = await _fixture.IngestAsync(set, conflicting);

        // Assert
        Assert.Multiple(() =>
        {
            Assert.That(resent, Is.EqualTo(new IngestOutcome(0, 1, null)), "the same content is a duplicate and stores nothing");
            Assert.That(reused.Error?.Kind, Is.EqualTo(IngestRejectionKind.ConflictingRecord));
            Assert.That(reused.Error?.RecordIndex, Is.EqualTo(1));
            Assert.That(reused.Error?.Message, Is.EqualTo(
                $"records[1].id: {stored[1].Id} was deleted from 'model/1/fc' and cannot be reused (a deleted id stays deleted); log the new content under a new id"));
            Assert.That(conflict.Error?.Message, Is.EqualTo($"records[0].id: {stored[0].Id} is already stored in 'model/1/fc' with different content"), "a live id keeps its message");
            Assert.That(_fixture.Store.ListSets().Single().TotalRecords, Is.EqualTo(1), "nothing of the refused batches was stored");
        });
    }
}
