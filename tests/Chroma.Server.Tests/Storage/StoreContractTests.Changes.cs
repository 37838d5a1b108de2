using Chroma.Server.Storage;
using Chroma.Server.Tests.TestSupport;

namespace Chroma.Server.Tests.Storage;

/// <summary>The change feed indexes tail: change sequences, pages of inserts, deletions by their stamps.</summary>
public abstract partial class StoreContractTests
{
    [Test, CancelAfter(30_000)]
    public async Task ReadChanges_PagesOfSeven_VisitEveryLiveInsertOnceAndEndAtTheLastSequence()
    {
        // Arrange
        await SeedAsync();
        var seen = new List<float>();
        long cursor = 0;
        var pages = 0;

        // Act
        while (true)
        {
            var page = _fixture.Store.ReadChanges(_set, cursor, 7);
            if (page.Through <= cursor)
            {
                break;
            }

            pages++;
            seen.AddRange(page.Sequences.Select((_, i) => page.Vectors[i * _set.Dimension]));
            cursor = page.Through;
        }

        // Assert
        Assert.Multiple(() =>
        {
            Assert.That(seen, Is.EqualTo(Enumerable.Range(0, 20).Select(i => (float)i)), "every insert once, in order, with its vector");
            Assert.That(pages, Is.EqualTo(3));
            Assert.That(cursor, Is.EqualTo(_fixture.Store.ReadLastSequence(_set)));
            Assert.That(_fixture.Store.ReadLastSequences()[_set.SetId], Is.EqualTo(cursor));
        });
    }

    [Test, CancelAfter(30_000)]
    public async Task ReadChanges_DeleteAfterTheCursor_ReportsTheDeletionWithANewerSequence()
    {
        // Arrange: a reader that has everything seeded.
        await SeedAsync();
        var cursor = _fixture.Store.ReadLastSequence(_set);
        var deletedSequence = _fixture.Store.GetRecordsByIds(_set, [_records[3].Id], false).Single().Sequence;

        // Act
        await _fixture.Store.DeleteAsync(_set, [_records[3].Id, Guid.NewGuid().ToString()]);
        var nothingDeleted = await _fixture.Store.DeleteAsync(_set, [Guid.NewGuid().ToString()]);
        var afterDelete = _fixture.Store.ReadLastSequence(_set);
        var page = _fixture.Store.ReadChanges(_set, cursor, 100);
        var again = _fixture.Store.ReadChanges(_set, page.Through, 100);

        // Assert
        Assert.Multiple(() =>
        {
            Assert.That(afterDelete, Is.GreaterThan(cursor), "a delete raises the set's change sequence");
            Assert.That(nothingDeleted, Is.Zero);
            Assert.That(page.Deleted, Is.EqualTo(new[] { deletedSequence }));
            Assert.That(page.Sequences, Is.Empty);
            Assert.That(page.Through, Is.EqualTo(afterDelete));
            Assert.That(again.Count, Is.Zero, "nothing more after the page");
            Assert.That(again.Through, Is.EqualTo(page.Through));
        });
    }

    [Test, CancelAfter(30_000)]
    public async Task ReadChanges_DeletionStampedAfterAFullPage_ReportedWithThePageThatReachesItsStamp()
    {
        // Arrange: record 3 of 20 is deleted after all were stored, so its deletion is stamped after every insert.
        await SeedAsync();
        var deletedSequence = _fixture.Store.GetRecordsByIds(_set, [_records[2].Id], false).Single().Sequence;
        await _fixture.Store.DeleteAsync(_set, [_records[2].Id]);
        var last = _fixture.Store.ReadLastSequence(_set);

        // Act: pages of 7 live inserts.
        var pages = new List<RecordChangePage>();
        long cursor = 0;
        while (_fixture.Store.ReadChanges(_set, cursor, 7) is { } page && page.Through > cursor)
        {
            pages.Add(page);
            cursor = page.Through;
        }

        // Assert: full pages end at their last insert and carry no later deletion; the last page ends at the change
        // sequence and carries the deletion.
        Assert.Multiple(() =>
        {
            Assert.That(pages.Select(p => p.Sequences.Length), Is.EqualTo(new[] { 7, 7, 5 }));
            Assert.That(pages.Select(p => p.HasMore), Is.EqualTo(new[] { true, true, false }));
            Assert.That(pages.Take(2).Select(p => p.Through), Is.EqualTo(pages.Take(2).Select(p => p.Sequences[^1])));
            Assert.That(pages.Take(2).SelectMany(p => p.Deleted), Is.Empty);
            Assert.That(pages[2].Deleted, Is.EqualTo(new[] { deletedSequence }));
            Assert.That(pages[2].Through, Is.EqualTo(last));
            Assert.That(pages.SelectMany(p => p.Sequences).ToList(), Is.Ordered.Ascending.And.Not.Contains(deletedSequence).And.Count.EqualTo(19));
        });
    }

    [Test, CancelAfter(30_000)]
    public async Task ReadChanges_InsertedThenDeletedBeforeTheRead_NeitherInsertNorDeletionOfItIsLost()
    {
        // Arrange: the reader is behind both the insert and the delete of record 25.
        await SeedAsync();
        var cursor = _fixture.Store.ReadLastSequence(_set);
        var later = Records.Sequence(10, start: 20);
        await _fixture.IngestAsync(Records.Set(), later);
        await _fixture.Store.DeleteAsync(_set, [later[5].Id]);

        // Act
        var page = _fixture.Store.ReadChanges(_set, cursor, 100);

        // Assert: the deleted record is not among the inserts; its deletion may be listed (removing it is harmless).
        Assert.Multiple(() =>
        {
            Assert.That(page.Sequences, Has.Length.EqualTo(9));
            Assert.That(Enumerable.Range(0, 9).Select(i => page.Vectors[i * _set.Dimension]), Does.Not.Contain(25f));
            Assert.That(page.Through, Is.EqualTo(_fixture.Store.ReadLastSequence(_set)));
            Assert.That(page.HasMore, Is.False);
        });
    }
}
