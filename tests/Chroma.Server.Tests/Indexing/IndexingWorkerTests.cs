using Chroma.Server.Indexing;
using Chroma.Server.Tests.TestSupport;
using Microsoft.Extensions.Logging.Abstractions;

namespace Chroma.Server.Tests.Indexing;

[TestFixture]
public sealed class IndexingWorkerTests
{
    private IndexRegistryFixture _fixture = null!;
    private IndexingWorker _worker = null!;

    [SetUp]
    public void SetUp()
    {
        _fixture = new IndexRegistryFixture(threshold: 0);
        _worker = new IndexingWorker(_fixture.Indexes, _fixture.Store.Store, _fixture.Options, _fixture.Clock, NullLogger<IndexingWorker>.Instance);
    }

    [TearDown]
    public void TearDown()
    {
        _worker.Dispose();
        _fixture.Dispose();
    }

    [Test, CancelAfter(30_000)]
    public async Task Ingest_WhileWorkerRuns_RecordIsSearchableRightAfterTheAck(CancellationToken cancellationToken)
    {
        // Arrange
        await _worker.StartAsync(cancellationToken);

        // Act: the clock never moves, so the search can only succeed if the worker applied the change in time.
        await _fixture.IngestAsync(Records.Set(), Records.Sequence(40));
        var set = _fixture.Store.RequireSet(Records.Set());
        var found = await _fixture.Indexes.SearchAsync(set, [39, 0, 0, 0], 1, null, cancellationToken);

        // Assert
        Assert.Multiple(() =>
        {
            Assert.That(found.Single().Distance, Is.Zero);
            Assert.That(_fixture.Indexes.CatchUpTimeouts, Is.Zero);
        });
    }

    [Test, CancelAfter(30_000)]
    public async Task StopAsync_AfterChanges_SavesIndexAndNextStartLoadsIt(CancellationToken cancellationToken)
    {
        // Arrange
        await _worker.StartAsync(cancellationToken);
        await _fixture.IngestAsync(Records.Set(), Records.Sequence(40));
        var set = _fixture.Store.RequireSet(Records.Set());

        // Act
        await _worker.StopAsync(cancellationToken);
        var files = Directory.GetFiles(_fixture.Indexes.IndexDirectory, "*.hnsw");
        _fixture.Restart();
        using var restarted = new IndexingWorker(_fixture.Indexes, _fixture.Store.Store, _fixture.Options, _fixture.Clock, NullLogger<IndexingWorker>.Instance);
        await restarted.StartAsync(cancellationToken);
        var found = await _fixture.Indexes.SearchAsync(set, [39, 0, 0, 0], 1, null, cancellationToken);
        await restarted.StopAsync(cancellationToken);

        // Assert
        Assert.Multiple(() =>
        {
            Assert.That(files, Has.Length.EqualTo(1));
            Assert.That(_fixture.Indexes.GetLoadReport(set), Is.EqualTo(new IndexLoadReport(true, 0, 0)), "loaded, nothing to catch up");
            Assert.That(found.Single().Distance, Is.Zero);
        });
    }

    [Test, CancelAfter(30_000)]
    public async Task SaveInterval_Elapses_SavesChangedIndex(CancellationToken cancellationToken)
    {
        // Arrange
        await _worker.StartAsync(cancellationToken);
        await _fixture.IngestAsync(Records.Set(), Records.Sequence(40));
        var set = _fixture.Store.RequireSet(Records.Set());
        await _fixture.Indexes.SearchAsync(set, [0, 0, 0, 0], 1, null, cancellationToken); // applied by now

        // Act: the worker creates its save timer once its start-up load is done, which can be after the search
        // above returned; a fake-clock advance made before the timer exists never fires it. So move the clock one
        // save interval at a time until the save shows (the clock only moves, no wall-time interval is asserted).
        bool saved = false;
        for (int step = 0; step < 200 && !saved; step++)
        {
            _fixture.Clock.Advance(_fixture.Options.SaveInterval);
            saved = SpinWait.SpinUntil(() => Directory.Exists(_fixture.Indexes.IndexDirectory)
                && Directory.GetFiles(_fixture.Indexes.IndexDirectory, "*.hnsw").Length == 1, TimeSpan.FromMilliseconds(100));
        }

        // Assert
        Assert.That(saved, Is.True, "the periodic save wrote the index before shutdown");
    }
}
