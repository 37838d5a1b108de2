using Microsoft.Extensions.Logging;
using Chroma.Server.Tests.TestSupport;
using Chroma.Server.Indexing;

namespace Chroma.Server.Tests.Indexing;

[TestFixture]
public sealed class EmbeddingSetIndexesTests
{
    private IndexRegistryFixture _fixture = null!;

    [SetUp]
    public void SetUp() => _fixture = new IndexRegistryFixture(threshold: 10_000);

    [TearDown]
    public void TearDown() => _fixture.Dispose();

    [Test, CancelAfter(30_000)]
    public async Task SearchAsync_FirstQuery_LoadsStoredVectorsFromTheStore(CancellationToken cancellationToken)
    {
        // Arrange: stored without the registry knowing.
        await _fixture.IngestUnindexedAsync(Records.Set(), Records.Sequence(10));
        var set = _fixture.Store.RequireSet(Records.Set());

        // Act
        var found = await _fixture.Indexes.SearchAsync(set, [6.9f, 0, 0, 0], 2, "training", cancellationToken);

        // Assert: 5 is production (every fifth), so the nearest training records are 7 and 6.
        var records = _fixture.Store.Store.GetRecordsBySequence(set, [.. found.Select(n => n.Sequence)], true);
        Assert.Multiple(() =>
        {
            Assert.That(records.Select(r => r.Record.Embedding[0]), Is.EqualTo(new[] { 7f, 6f }));
            Assert.That(_fixture.Indexes.GetLoadReport(set), Is.EqualTo(new Chroma.Server.Indexing.IndexLoadReport(false, 10, 0)));
        });
    }

    [Test, CancelAfter(30_000)]
    public async Task SearchAsync_ChangesAppliedWhileWaiting_SeesInsertAndDelete(CancellationToken cancellationToken)
    {
        // Arrange
        await _fixture.IngestAsync(Records.Set(), Records.Sequence(3));
        var set = _fixture.Store.RequireSet(Records.Set());
        await _fixture.Indexes.ApplyQueuedAsync();
        var later = Records.Sequence(1, start: 100);
        await _fixture.IngestAsync(Records.Set(), later);

        var waits = new List<(double Seconds, bool CaughtUp)>();
        _fixture.Indexes.CatchUpWaited += (seconds, caughtUp) => waits.Add((seconds, caughtUp));

        // Act: the search waits for the queued insert; the worker's job is done here by hand.
        var afterInsertTask = _fixture.Indexes.SearchAsync(set, [100, 0, 0, 0], 1, null, cancellationToken);
        await _fixture.Indexes.ApplyQueuedAsync();
        var afterInsert = (await afterInsertTask).Single();
        await _fixture.DeleteAsync(set, later[0].Id);
        var afterDeleteTask = _fixture.Indexes.SearchAsync(set, [100, 0, 0, 0], 1, null, cancellationToken);
        await _fixture.Indexes.ApplyQueuedAsync();
        var afterDelete = (await afterDeleteTask).Single();

        // Assert
        Assert.Multiple(() =>
        {
            Assert.That(afterInsert.Distance, Is.Zero, "the new record is found");
            Assert.That(afterDelete.Distance, Is.EqualTo(98f * 98f), "the deleted record is gone; record 2 is next");
            Assert.That(_fixture.Indexes.CatchUpTimeouts, Is.Zero);
            Assert.That(waits, Is.EqualTo(new[] { (0.0, true), (0.0, true) }), "two waits, both caught up before the fake clock moved");
        });
    }

    [Test, CancelAfter(30_000)]
    public async Task SearchAsync_IndexNeverCatchesUp_AnswersAfterTheTimeoutFromWhatIsIndexed(CancellationToken cancellationToken)
    {
        // Arrange
        await _fixture.IngestAsync(Records.Set(), Records.Sequence(3));
        var set = _fixture.Store.RequireSet(Records.Set());
        await _fixture.Indexes.ApplyQueuedAsync();
        await _fixture.IngestAsync(Records.Set(), Records.Sequence(1, start: 100));

        var waits = new List<(double Seconds, bool CaughtUp)>();
        _fixture.Indexes.CatchUpWaited += (seconds, caughtUp) => waits.Add((seconds, caughtUp));

        // Act: nothing applies the insert; the fake clock passes the catch-up timeout.
        var search = _fixture.Indexes.SearchAsync(set, [100, 0, 0, 0], 1, null, cancellationToken);
        var waitedBeforeTimeout = search.IsCompleted;
        _fixture.Clock.Advance(_fixture.Options.CatchUpTimeout);
        var found = (await search).Single();

        // Assert
        Assert.Multiple(() =>
        {
            Assert.That(waitedBeforeTimeout, Is.False, "the query waits for the queued change first");
            Assert.That(found.Distance, Is.EqualTo(98f * 98f), "answered from the indexed records 0..2");
            Assert.That(_fixture.Indexes.CatchUpTimeouts, Is.EqualTo(1));
            Assert.That(waits, Is.EqualTo(new[] { (_fixture.Options.CatchUpTimeout.TotalSeconds, false) }), "one wait, the whole timeout, behind");
            Assert.That(_fixture.Log.Entries.Any(e => e.Level == LogLevel.Warning && e.Message.Contains("sequences behind", StringComparison.Ordinal)), Is.True);
        });
    }

    [Test, CancelAfter(30_000)]
    public async Task SearchAsync_AfterAWaitRanOut_AnswersAtOnceUntilTheIndexReadsThroughTheStore(CancellationToken cancellationToken)
    {
        // Arrange: one query waits out the catch-up timeout (probe X, X9: under load every query then waited 2 s)
        await _fixture.IngestAsync(Records.Set(), Records.Sequence(3));
        var set = _fixture.Store.RequireSet(Records.Set());
        await _fixture.Indexes.ApplyQueuedAsync();
        await _fixture.IngestAsync(Records.Set(), Records.Sequence(1, start: 100));
        var first = _fixture.Indexes.FindAsync(set, [100, 0, 0, 0], 1, null, default, cancellationToken);
        _fixture.Clock.Advance(_fixture.Options.CatchUpTimeout);
        var timedOut = await first;
        var waits = new List<(double Seconds, bool CaughtUp)>();
        _fixture.Indexes.CatchUpWaited += (seconds, caughtUp) => waits.Add((seconds, caughtUp));

        // Act: a second query with the index still behind; then the intake reads through the store, more is logged, a third query
        var second = _fixture.Indexes.FindAsync(set, [100, 0, 0, 0], 1, null, default, cancellationToken);
        var secondAnsweredAtOnce = second.IsCompleted;
        var secondAnswer = await second;
        await _fixture.Indexes.ApplyQueuedAsync();
        await _fixture.IngestAsync(Records.Set(), Records.Sequence(1, start: 200));
        var third = _fixture.Indexes.FindAsync(set, [200, 0, 0, 0], 1, null, default, cancellationToken);
        var thirdWaited = !third.IsCompleted;
        await _fixture.Indexes.ApplyQueuedAsync();
        var thirdAnswer = await third;

        // Assert
        Assert.Multiple(() =>
        {
            Assert.That(timedOut.IndexBehind, Is.True);
            Assert.That(secondAnsweredAtOnce, Is.True, "no second wait of the whole timeout");
            Assert.That(secondAnswer.IndexBehind, Is.True);
            Assert.That(thirdWaited, Is.True, "once the index has read through the store, queries wait for their writes again");
            Assert.That(thirdAnswer.IndexBehind, Is.False);
            Assert.That(thirdAnswer.Neighbors.Single().Distance, Is.Zero);
            Assert.That(_fixture.Indexes.CatchUpTimeouts, Is.EqualTo(1));
            Assert.That(_fixture.Indexes.FarBehindAnswers, Is.EqualTo(1));
            Assert.That(waits.Select(w => w.Seconds), Is.All.Zero, "no wait after the first ran out");
        });
    }
}
