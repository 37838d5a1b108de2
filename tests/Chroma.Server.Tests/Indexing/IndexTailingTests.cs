using Chroma.Server.Indexing;
using Chroma.Server.Tests.TestSupport;

namespace Chroma.Server.Tests.Indexing;

/// <summary>
/// Indexes tail the (SQLite) store by sequence: the worker reads pages of changes after the index's sequence, a
/// query waits for the set's committed sequence, and no record waits in memory for the worker.
/// </summary>
[TestFixture]
public sealed class IndexTailingTests
{
    private IndexRegistryFixture _fixture = null!;

    [SetUp]
    public void SetUp() => _fixture = new IndexRegistryFixture(threshold: 10_000);

    [TearDown]
    public void TearDown() => _fixture.Dispose();

    [Test, CancelAfter(60_000)]
    public async Task Dispose_WhileTheWorkerAppliesABacklog_RoundEndsQuietlyAndNothingFails(CancellationToken cancellationToken)
    {
        // Arrange: a backlog of 9,000 records read one at a time, and the round held at its third page (a shutdown whose
        // host stop timeout ran out before the worker's last round: the registry is disposed under it). Below the
        // fixture's graph threshold (10,000): a background build would hold the tail back and end the rounds early.
        var (gated, gate) = GatedChangeReads.Wrap(_fixture.Store.Store);
        _fixture.RestartOver(gated);
        _fixture.Indexes.CatchUpPageSize = 1;
        await _fixture.IngestAsync(Records.Set(), Records.Sequence(1));
        var set = _fixture.Store.RequireSet(Records.Set());
        await _fixture.Indexes.LoadAsync(set).WaitAsync(cancellationToken);
        await _fixture.IngestAsync(Records.Set(), Records.Sequence(9_000, start: 1));
        gate.HoldAfter = 2;
        var applying = Task.Run(() => _fixture.Indexes.ApplyQueuedAsync(), cancellationToken);
        Assert.That(await gate.WaitUntilHeldAsync(TimeSpan.FromSeconds(20)), Is.True, "the round reached its third page");
        Assert.That(applying.IsCompleted, Is.False, "the backlog is still applying when the registry is disposed under it");

        // Act: dispose while the round waits at the gate, then let the read go on into disposed indexes.
        var indexes = _fixture.Indexes;
        var disposing = Task.Run(indexes.Dispose, cancellationToken);
        while (!indexes.IsDisposed)
        {
            await Task.Yield();
        }

        gate.Release();
        await disposing.WaitAsync(cancellationToken);

        // Assert: before, the round met disposed indexes (ObjectDisposedException out of the worker, which stopped the
        // host, or logged as a failed apply).
        Assert.That(async () => await applying.WaitAsync(cancellationToken), Throws.Nothing);
        lock (_fixture.Log.Entries)
        {
            Assert.That(_fixture.Log.Entries.Where(e => e.Level >= Microsoft.Extensions.Logging.LogLevel.Error), Is.Empty);
        }

        Assert.That(_fixture.Indexes.ChangesApplied, Is.LessThan(9_001), "the round stopped at a page instead of finishing the backlog");
    }

    [Test, CancelAfter(30_000)]
    public async Task ApplyQueuedAsync_BacklogOfManyPages_IndexReflectsTheStoresSequence(CancellationToken cancellationToken)
    {
        // Arrange: a backlog of 100 records, read 16 at a time.
        _fixture.Indexes.CatchUpPageSize = 16;
        await _fixture.IngestAsync(Records.Set(), Records.Sequence(1));
        var set = _fixture.Store.RequireSet(Records.Set());
        var index = await _fixture.Indexes.LoadAsync(set).WaitAsync(cancellationToken);
        await _fixture.IngestAsync(Records.Set(), Records.Sequence(100, start: 1));

        // Act
        await _fixture.Indexes.ApplyQueuedAsync().WaitAsync(cancellationToken);

        // Assert
        var missing = Enumerable.Range(0, 101).Where(i => index.Search([i, 0, 0, 0], 1) is not [{ Distance: 0 }]).ToList();
        Assert.Multiple(() =>
        {
            Assert.That(index.Count, Is.EqualTo(101));
            Assert.That(missing, Is.Empty);
            Assert.That(_fixture.Indexes.IndexedThroughSequence(set), Is.EqualTo(_fixture.Store.Store.ReadLastSequence(set)));
            Assert.That(_fixture.Indexes.ChangesApplied, Is.EqualTo(100), "the backlog was read from the store, once");
        });
    }

    [Test, CancelAfter(30_000)]
    public async Task SearchAsync_RecordsStoredWithoutAWakeUp_QueryReadsTheCommittedSequenceAndWaitsForIt(CancellationToken cancellationToken)
    {
        // Arrange: the index is current, then a record is committed without telling it (as another server's commit).
        await _fixture.IngestAsync(Records.Set(), Records.Sequence(3));
        var set = _fixture.Store.RequireSet(Records.Set());
        await _fixture.Indexes.ApplyQueuedAsync().WaitAsync(cancellationToken);
        await _fixture.IngestUnindexedAsync(Records.Set(), Records.Sequence(1, start: 100));

        // Act: the query wakes the worker itself; the worker's turn is taken here by hand.
        var search = _fixture.Indexes.SearchAsync(set, [100, 0, 0, 0], 1, null, cancellationToken);
        var answeredBeforeCatchUp = search.IsCompleted;
        await _fixture.Indexes.ApplyQueuedAsync().WaitAsync(cancellationToken);
        var found = (await search).Single();

        // Assert
        Assert.Multiple(() =>
        {
            Assert.That(answeredBeforeCatchUp, Is.False, "the query waited for the index");
            Assert.That(found.Distance, Is.Zero, "the record committed without a wake-up is found");
            Assert.That(_fixture.Indexes.CatchUpTimeouts, Is.Zero);
        });
    }

    [Test, CancelAfter(30_000)]
    public async Task Poll_SetsChangedWithoutAWakeUp_CatchesUpInsertsAndDeletions(CancellationToken cancellationToken)
    {
        // Arrange
        var records = Records.Sequence(5);
        await _fixture.IngestAsync(Records.Set(), records);
        var set = _fixture.Store.RequireSet(Records.Set());
        var index = await _fixture.Indexes.LoadAsync(set).WaitAsync(cancellationToken);
        await _fixture.Indexes.ApplyQueuedAsync().WaitAsync(cancellationToken);
        await _fixture.IngestUnindexedAsync(Records.Set(), Records.Sequence(2, start: 5));
        await _fixture.DeleteUnindexedAsync(set, records[0].Id);
        await _fixture.Indexes.ApplyQueuedAsync().WaitAsync(cancellationToken);
        var beforePoll = index.Count;

        // Act
        _fixture.Indexes.Poll();
        await _fixture.Indexes.ApplyQueuedAsync().WaitAsync(cancellationToken);

        // Assert
        Assert.Multiple(() =>
        {
            Assert.That(beforePoll, Is.EqualTo(5), "nothing woke the worker before the poll");
            Assert.That(index.Count, Is.EqualTo(6), "two added, one removed");
            Assert.That(index.Search([0, 0, 0, 0], 1).Single().Distance, Is.EqualTo(1f), "record 0 is gone");
            Assert.That(_fixture.Indexes.IndexedThroughSequence(set), Is.EqualTo(_fixture.Store.Store.ReadLastSequence(set)));
        });
    }

    [Test, CancelAfter(60_000)]
    public async Task OnRecordsStored_FiftyCommitsBeforeTheWorkerRuns_OneTurnReadsThemAll(CancellationToken cancellationToken)
    {
        // Arrange
        await _fixture.IngestAsync(Records.Set(), Records.Sequence(1));
        var set = _fixture.Store.RequireSet(Records.Set());
        var index = await _fixture.Indexes.LoadAsync(set).WaitAsync(cancellationToken);
        await _fixture.Indexes.ApplyQueuedAsync().WaitAsync(cancellationToken);

        // Act: 50 commits wake the set 50 times; the set waits for the worker once, its records wait in the store.
        for (var i = 0; i < 50; i++)
        {
            await _fixture.IngestAsync(Records.Set(), Records.Sequence(10, start: 1 + (i * 10)));
        }

        var hasMoreAfterOneRound = await _fixture.Indexes.ApplyRoundAsync().WaitAsync(cancellationToken);

        // Assert
        Assert.Multiple(() =>
        {
            Assert.That(hasMoreAfterOneRound, Is.False, "one turn read the whole backlog (one page)");
            Assert.That(index.Count, Is.EqualTo(501));
        });
    }
}
