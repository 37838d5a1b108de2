using Chroma.Server.Indexing;
using Chroma.Server.Indexing.Internal;
using Chroma.Server.Tests.TestSupport;

namespace Chroma.Server.Tests.Indexing;

/// <summary>
/// Once a set's graph answers, what the worker reads from the store is staged (searched by a scan) and linked into the
/// graph behind it: the cursor, and the queries that wait for it, move with the reads, not with the graph inserts.
/// Real SQLite store, real graph; the link step is made small so a backlog stays staged across turns.
/// </summary>
[TestFixture]
public sealed class IndexStagingTests
{
    private IndexRegistryFixture _fixture = null!;

    [SetUp]
    public void SetUp()
    {
        _fixture = new IndexRegistryFixture(threshold: 0);
        _fixture.Indexes.CatchUpPageSize = 1_000;
        _fixture.Indexes.LinkChunkSize = 100;
        _fixture.Indexes.LinkStepBudget = Timeout.InfiniteTimeSpan; // steps of exactly 100, however slow the machine
    }

    [TearDown]
    public void TearDown() => _fixture.Dispose();

    [Test, CancelAfter(60_000)]
    public async Task ApplyRoundAsync_BacklogOnAGraph_CursorMovesWithTheReadsAndStagedRecordsAreFound(CancellationToken cancellationToken)
    {
        // Arrange: a graph from the first vector, then a backlog of 4,000 committed while nothing indexed it.
        var (set, index) = await GraphWithBacklogAsync(4_000, cancellationToken);

        // Act: one turn (four steps: the first reads the four pages of 1,000, each links 100).
        await _fixture.Indexes.ApplyRoundAsync().WaitAsync(cancellationToken);

        // Assert: the cursor is at the store's end after one turn, though the graph holds 401 of 4,001.
        var missing = Enumerable.Range(0, 4_001).Where(i => index.Search([i, 0, 0, 0], 1) is not [{ Distance: 0 }]).ToList();
        Assert.Multiple(() =>
        {
            Assert.That(_fixture.Indexes.IndexedThroughSequence(set), Is.EqualTo(_fixture.Store.Store.ReadLastSequence(set)));
            Assert.That(index.Hnsw!.Count, Is.EqualTo(401), "the first vector and four steps of 100 linked");
            Assert.That(index.PendingCount, Is.EqualTo(3_600));
            Assert.That(index.Count, Is.EqualTo(4_001));
            Assert.That(missing, Is.Empty, "every record is found by its own vector, staged or linked");
        });
    }

    [Test, CancelAfter(60_000)]
    public async Task SearchAsync_BacklogOnAGraph_QueryIsAnsweredWhenTheBacklogIsReadNotLinked(CancellationToken cancellationToken)
    {
        // Arrange
        var (set, index) = await GraphWithBacklogAsync(4_000, cancellationToken);

        // Act: a query for the last record waits for the store's sequence; the worker's turn is taken here by hand.
        var search = _fixture.Indexes.SearchAsync(set, [4_000, 0, 0, 0], 1, null, cancellationToken);
        var answeredBeforeTheTurn = search.IsCompleted;
        await _fixture.Indexes.ApplyRoundAsync().WaitAsync(cancellationToken);

        // No other turn runs, and the fixture's clock does not move (the query's catch-up wait cannot time out): only the
        // cursor reaching the store's sequence in this one turn answers it.
        var found = (await search.WaitAsync(TimeSpan.FromSeconds(20), cancellationToken)).Single();

        // Assert
        Assert.Multiple(() =>
        {
            Assert.That(answeredBeforeTheTurn, Is.False, "the query waited for the index");
            Assert.That(index.PendingCount, Is.EqualTo(3_600), "answered while most of the backlog is still to be linked");
            Assert.That(found.Distance, Is.Zero);
            Assert.That(_fixture.Indexes.CatchUpTimeouts, Is.Zero);
        });
    }

    [Test, CancelAfter(60_000)]
    public async Task ApplyQueuedAsync_DeletionsOfStagedAndLinkedRecords_NeitherIsFoundAndEveryOtherIsFoundOnce(CancellationToken cancellationToken)
    {
        // Arrange: one turn leaves records 1-400 linked and 401-4,000 staged; one of each is deleted.
        var (set, index) = await GraphWithBacklogAsync(4_000, cancellationToken);
        await _fixture.Indexes.ApplyRoundAsync().WaitAsync(cancellationToken);
        var linked = _backlog[199].Id;
        var staged = _backlog[2_999].Id;
        Assert.That(index.PendingCount, Is.EqualTo(3_600), "precondition: record 3,000 is staged, 200 linked");
        await _fixture.DeleteUnindexedAsync(set, linked, staged);

        // Act: catch up fully (the deletions, then every staged vector linked).
        await _fixture.Indexes.ApplyQueuedAsync().WaitAsync(cancellationToken);

        // Assert
        var wrong = Enumerable.Range(0, 4_001).Where(i => i is not (200 or 3_000))
            .Where(i => index.Search([i, 0, 0, 0], 1) is not [{ Distance: 0 }]).ToList();
        var nearest = index.Search([3_000, 0, 0, 0], 3);
        Assert.Multiple(() =>
        {
            Assert.That(index.PendingCount, Is.Zero);
            Assert.That(index.Hnsw!.Count, Is.EqualTo(3_999));
            Assert.That(wrong, Is.Empty);
            Assert.That(index.Search([200, 0, 0, 0], 1).Single().Distance, Is.EqualTo(1f), "the deleted linked record is not found");
            Assert.That(nearest.Select(n => n.Distance), Is.EqualTo(new[] { 1f, 1f, 4f }), "the deleted staged record is not found, nor anything twice");
        });
    }

    [Test, CancelAfter(60_000)]
    public async Task SaveChanged_WhileRecordsAreStaged_FileReflectsTheStoreUpToThemAndARestartFindsEveryRecord(CancellationToken cancellationToken)
    {
        // Arrange: records 1-400 linked, 401-4,000 staged when the index is saved.
        var (set, index) = await GraphWithBacklogAsync(4_000, cancellationToken);
        await _fixture.Indexes.ApplyRoundAsync().WaitAsync(cancellationToken);
        var oldestStaged = SequenceOf(set, 401);

        // Act
        var saved = _fixture.Indexes.SaveChanged();
        var file = SetIndexFile.Load(Path.Combine(_fixture.Indexes.IndexDirectory, set.Key + ".hnsw"));
        _fixture.Restart();
        var reloaded = await _fixture.Indexes.LoadAsync(set).WaitAsync(cancellationToken);

        // Assert
        var missing = Enumerable.Range(0, 4_001).Where(i => reloaded.Search([i, 0, 0, 0], 1) is not [{ Distance: 0 }]).ToList();
        Assert.Multiple(() =>
        {
            Assert.That(saved, Is.EqualTo(1));
            Assert.That(file.Header.IndexedThroughSequence, Is.EqualTo(oldestStaged - 1), "the file reflects the store up to the oldest staged record");
            Assert.That(file.Graph.Count, Is.EqualTo(401));
            Assert.That(reloaded.Count, Is.EqualTo(4_001));
            Assert.That(missing, Is.Empty, "the staged records were read again from the store");
            Assert.That(_fixture.Indexes.IndexedThroughSequence(set), Is.EqualTo(_fixture.Store.Store.ReadLastSequence(set)));
        });
    }

    [Test, CancelAfter(60_000)]
    public async Task StartSaves_WhileTheFileIsWritten_WorkerStagesWithoutLinkingAndTheWaitingQueryIsAnswered(CancellationToken cancellationToken)
    {
        // Arrange: the first 1,000 of a backlog caught up and linked; the save's write is held on its thread.
        var (set, index) = await GraphWithBacklogAsync(1_000, cancellationToken);
        await _fixture.Indexes.ApplyQueuedAsync().WaitAsync(cancellationToken);
        using var write = new HeldSaveWrite(_fixture.Indexes, cancellationToken);
        var started = await write.StartAsync();
        var more = Records.Sequence(500, start: 1_001);
        await _fixture.IngestUnindexedAsync(Records.Set(), more);
        _fixture.Indexes.Poll();

        // Act: a query for the newest record waits for the store's sequence; one worker turn runs while the write is held.
        var search = _fixture.Indexes.SearchAsync(set, [1_500, 0, 0, 0], 1, null, cancellationToken);
        await _fixture.Indexes.ApplyRoundAsync().WaitAsync(cancellationToken);
        var found = (await search.WaitAsync(TimeSpan.FromSeconds(20), cancellationToken)).Single();
        var graphWhileWriting = index.Hnsw!.Count;
        var stagedWhileWriting = index.PendingCount;
        write.Release();
        await _fixture.Indexes.ApplyQueuedAsync().WaitAsync(cancellationToken);
        _fixture.Restart();
        var reloaded = await _fixture.Indexes.LoadAsync(set).WaitAsync(cancellationToken);

        // Assert: the graph did not change under the write; after it every staged vector was linked; a restart from
        // that file finds every record (what was staged is read again from the store).
        var missing = Enumerable.Range(0, 1_501).Where(i => reloaded.Search([i, 0, 0, 0], 1) is not [{ Distance: 0 }]).ToList();
        Assert.Multiple(() =>
        {
            Assert.That(started, Is.EqualTo(1));
            Assert.That(found.Distance, Is.Zero, "the query was answered while the file was written");
            Assert.That(graphWhileWriting, Is.EqualTo(1_001), "nothing linked into the graph being written");
            Assert.That(stagedWhileWriting, Is.EqualTo(500));
            Assert.That(index.PendingCount, Is.Zero, "linked once the write ended");
            Assert.That(index.Hnsw!.Count, Is.EqualTo(1_501));
            Assert.That(missing, Is.Empty);
            Assert.That(_fixture.Indexes.CatchUpTimeouts, Is.Zero);
        });
    }

    [Test, CancelAfter(60_000)]
    public async Task StartSaves_DeletionsOfLinkedRecordsWhileTheFileIsWritten_LeftOutAtOnceAndRemovedFromTheGraphAfterTheWrite(CancellationToken cancellationToken)
    {
        // Arrange: 1,000 records linked; the save's write is held on its thread; records 200 and 201 are deleted meanwhile.
        var (set, index) = await GraphWithBacklogAsync(1_000, cancellationToken);
        await _fixture.Indexes.ApplyQueuedAsync().WaitAsync(cancellationToken);
        using var write = new HeldSaveWrite(_fixture.Indexes, cancellationToken);
        await write.StartAsync();
        var deleted = SequenceOf(set, 200);
        await _fixture.DeleteUnindexedAsync(set, _backlog[199].Id, _backlog[200].Id);
        _fixture.Indexes.Poll();

        // Act: a query near record 200 waits for the deletions' sequence (the fixture's clock does not move, so its wait
        // cannot time out); one worker turn runs while the write is held.
        var search = _fixture.Indexes.SearchAsync(set, [200, 0, 0, 0], 2, null, cancellationToken);
        await _fixture.Indexes.ApplyRoundAsync().WaitAsync(TimeSpan.FromSeconds(20), cancellationToken);
        var found = await search.WaitAsync(TimeSpan.FromSeconds(20), cancellationToken);
        var (heldWhileWriting, inGraphWhileWriting, countWhileWriting) = (index.HeldRemovalCount, index.Hnsw!.Graph.Contains(deleted), index.Count);
        write.Release();
        await _fixture.Indexes.ApplyQueuedAsync().WaitAsync(cancellationToken);
        var (heldAfter, inGraphAfter) = (index.HeldRemovalCount, index.Hnsw!.Graph.Contains(deleted));
        _fixture.Restart();
        var reloaded = await _fixture.Indexes.LoadAsync(set).WaitAsync(cancellationToken);

        // Assert: answered during the write without the deleted records, which stayed in the graph being written (their
        // removal held) and left it once the write ended.
        Assert.Multiple(() =>
        {
            Assert.That(found.Select(n => n.Distance), Is.EqualTo(new[] { 1f, 4f }), "records 199 and 202: the deleted ones are left out");
            Assert.That(heldWhileWriting, Is.EqualTo(2));
            Assert.That(inGraphWhileWriting, Is.True, "the graph being written did not change");
            Assert.That(countWhileWriting, Is.EqualTo(999), "held removals are not counted");
            Assert.That(heldAfter, Is.Zero);
            Assert.That(inGraphAfter, Is.False, "removed from the graph once the write ended");
            Assert.That(index.Count, Is.EqualTo(999));
            Assert.That(_fixture.Indexes.CatchUpTimeouts, Is.Zero);
            Assert.That(reloaded.Search([200, 0, 0, 0], 1).Single().Distance, Is.EqualTo(1f), "not found after a restart");
            Assert.That(reloaded.Count, Is.EqualTo(999));
        });
    }

    [Test, CancelAfter(60_000)]
    public async Task StartSaves_MoreDeletionsWhileTheFileIsWrittenThanMayBeHeld_AppliedAfterTheWriteAndNotFoundAfterARestart(CancellationToken cancellationToken)
    {
        // Arrange: 1,000 records linked; the save's write is held on its thread; record 200 is deleted meanwhile, past a
        // limit of no held removal.
        var (set, index) = await GraphWithBacklogAsync(1_000, cancellationToken);
        await _fixture.Indexes.ApplyQueuedAsync().WaitAsync(cancellationToken);
        _fixture.Indexes.HeldRemovalLimit = 0;
        using var write = new HeldSaveWrite(_fixture.Indexes, cancellationToken);
        await write.StartAsync();
        await _fixture.DeleteUnindexedAsync(set, _backlog[199].Id);
        _fixture.Indexes.Poll();

        // Act: the turn reads the deletion, which would change the graph being written: it waits for the write.
        var round = _fixture.Indexes.ApplyRoundAsync();
        await Task.Delay(200, cancellationToken);
        var appliedDuringTheWrite = round.IsCompleted;
        write.Release();
        await round.WaitAsync(TimeSpan.FromSeconds(20), cancellationToken);
        await _fixture.Indexes.ApplyQueuedAsync().WaitAsync(cancellationToken);
        var foundAfter = index.Search([200, 0, 0, 0], 1).Single().Distance;
        _fixture.Restart();
        var reloaded = await _fixture.Indexes.LoadAsync(set).WaitAsync(cancellationToken);

        // Assert
        Assert.Multiple(() =>
        {
            Assert.That(appliedDuringTheWrite, Is.False, "the turn waited for the write");
            Assert.That(foundAfter, Is.EqualTo(1f), "the deleted record is not found");
            Assert.That(reloaded.Search([200, 0, 0, 0], 1).Single().Distance, Is.EqualTo(1f), "nor after a restart");
            Assert.That(reloaded.Count, Is.EqualTo(1_000));
        });
    }

    // 4 floats, at most 1,500 staged, pages of 1,000: step 1 reads two pages (2,000 staged reach the limit) and links
    // 100; steps 2-4 only link (1,800 ... 1,600).
    [TestCase(4, 4_000, 1_500, 2_000, 1_600, TestName = "ApplyRoundAsync_StagedVectorsReachTheLimit_StoreIsReadOnOnlyOnceTheyAreLinked")]

    // 512 floats, four times 128, so a page of 1,000 rows becomes 256 (the least a page holds); at most 300 staged: step
    // 1 reads two pages (512 pass the limit) and links 100; steps 2 and 3 only link (312, 212 left); step 4 reads a third
    // page and links (368). Pages of 1,000 rows would have staged 1,600.
    [TestCase(512, 2_000, 300, 768, 368, TestName = "ApplyRoundAsync_WideVectors_PagesShrinkWithTheWidthSoTheTailKeepsToItsFloats")]
    [CancelAfter(60_000)]
    public async Task ApplyRoundAsync_StagedTailLimit(int dimension, int backlog, int stagedLimit, int readThrough, int stagedAfterTurn, CancellationToken cancellationToken)
    {
        // Arrange: 100 linked per step.
        _fixture.Indexes.PendingFloatLimit = stagedLimit * dimension;
        var (set, index) = await GraphWithBacklogAsync(backlog, cancellationToken, dimension);

        // Act
        await _fixture.Indexes.ApplyRoundAsync().WaitAsync(cancellationToken);
        var throughAfterOneTurn = _fixture.Indexes.IndexedThroughSequence(set);
        var stagedAfterOneTurn = index.PendingCount;
        await _fixture.Indexes.ApplyQueuedAsync().WaitAsync(cancellationToken);

        // Assert
        Assert.Multiple(() =>
        {
            Assert.That(throughAfterOneTurn, Is.EqualTo(SequenceOf(set, readThrough)), "the pages read in one turn");
            Assert.That(stagedAfterOneTurn, Is.EqualTo(stagedAfterTurn));
            Assert.That(index.PendingCount, Is.Zero);
            Assert.That(index.Hnsw!.Count, Is.EqualTo(backlog + 1));
        });
    }

    // A graph of 8,000 vectors of 4 floats (32,000 floats): a quarter is 8,000 floats, 2,000 vectors, above the smallest
    // tail (500). Step 1 reads two pages (2,000 reach the limit) and links 100; step 2 reads a third page (1,900 below a
    // limit grown to 2,025 with the graph) and links (2,800); steps 3 and 4 only link (2,600). At the smallest tail
    // alone one page would have been read (1,000 reach 500).
    [TestCase(1_000_000, 3_000, 2_600, TestName = "ApplyRoundAsync_LargerGraph_TailHoldsAQuarterOfItsFloats")]

    // The limit wins over the quarter: 1,500 vectors at most. Step 1 reads two pages and links 100; steps 2-4 only link.
    [TestCase(1_500 * 4, 2_000, 1_600, TestName = "ApplyRoundAsync_LargerGraph_TailStillKeepsToTheLimit")]
    [CancelAfter(60_000)]
    public async Task ApplyRoundAsync_StagedTailGrowsWithTheGraph(int limitFloats, int readInOneTurn, int stagedAfterTurn, CancellationToken cancellationToken)
    {
        // Arrange: 100 linked per step.
        _fixture.Indexes.SmallestStagedFloats = 500 * 4;
        _fixture.Indexes.PendingFloatLimit = limitFloats;
        var (set, index) = await GraphWithBacklogAsync(6_000, cancellationToken, linked: 8_000);

        // Act
        await _fixture.Indexes.ApplyRoundAsync().WaitAsync(cancellationToken);
        var throughAfterOneTurn = _fixture.Indexes.IndexedThroughSequence(set);
        var stagedAfterOneTurn = index.PendingCount;
        await _fixture.Indexes.ApplyQueuedAsync().WaitAsync(cancellationToken);

        // Assert
        Assert.Multiple(() =>
        {
            Assert.That(throughAfterOneTurn, Is.EqualTo(SequenceOf(set, 8_000 + readInOneTurn - 1)), "the pages read in one turn");
            Assert.That(stagedAfterOneTurn, Is.EqualTo(stagedAfterTurn));
            Assert.That(index.PendingCount, Is.Zero);
            Assert.That(index.Hnsw!.Count, Is.EqualTo(14_000));
        });
    }

    [Test, CancelAfter(60_000)]
    public async Task FindAsync_StagedTailFillsBeforeTheQueryIsReached_AnswersAtOnceSayingTheIndexIsBehind(CancellationToken cancellationToken)
    {
        // Arrange: at most 1,500 staged vectors; a query for the last of 4,000 backlog records waits for the store's end.
        _fixture.Indexes.PendingFloatLimit = 1_500 * 4;
        var (set, _) = await GraphWithBacklogAsync(4_000, cancellationToken);
        var waiting = _fixture.Indexes.FindAsync(set, [4_000, 0, 0, 0], 1, null, default, cancellationToken);
        var answeredBeforeTheTurn = waiting.IsCompleted;

        // Act: one turn reads 2,000 and fills the tail, which releases the query (the fixture's clock does not move, so
        // its wait cannot time out); the same query asked then does not wait; asked again once the index caught up.
        await _fixture.Indexes.ApplyRoundAsync().WaitAsync(cancellationToken);
        var behind = await waiting.WaitAsync(TimeSpan.FromSeconds(20), cancellationToken);
        var stillBehind = await _fixture.Indexes.FindAsync(set, [4_000, 0, 0, 0], 1, null, default, cancellationToken).WaitAsync(TimeSpan.FromSeconds(20), cancellationToken);
        await _fixture.Indexes.ApplyQueuedAsync().WaitAsync(cancellationToken);
        var current = await _fixture.Indexes.FindAsync(set, [4_000, 0, 0, 0], 1, null, default, cancellationToken).WaitAsync(TimeSpan.FromSeconds(20), cancellationToken);

        // Assert
        Assert.Multiple(() =>
        {
            Assert.That(answeredBeforeTheTurn, Is.False, "the query waited while the index could still reach it");
            Assert.That(behind.IndexBehind, Is.True);
            Assert.That(behind.Neighbors.Single().Distance, Is.EqualTo(2_000f * 2_000f), "answered from what the index held: records 0-2,000");
            Assert.That(stillBehind.IndexBehind, Is.True, "while the tail is full, a query answers at once");
            Assert.That(current.IndexBehind, Is.False);
            Assert.That(current.Neighbors.Single().Distance, Is.Zero);
            Assert.That(_fixture.Indexes.FarBehindAnswers, Is.EqualTo(2));
            Assert.That(_fixture.Indexes.CatchUpTimeouts, Is.Zero);
        });
    }

    [Test, CancelAfter(60_000)]
    public async Task StartEstimateIfStale_WhileABacklogIsStaged_WaitsUntilItIsLinked(CancellationToken cancellationToken)
    {
        // Arrange: a graph of one vector, 4,000 more staged after one turn (401 linked): the graph has grown far past
        // its last estimate, half way through linking.
        var (_, index) = await GraphWithBacklogAsync(4_000, cancellationToken);
        await _fixture.Indexes.ApplyRoundAsync().WaitAsync(cancellationToken);
        await index.EstimateCompletion.WaitAsync(cancellationToken);
        var estimatedAt = index.Hnsw!.Estimate?.AtCount;

        // Act
        var startedWhileStaged = index.StartEstimateIfStale();
        await _fixture.Indexes.ApplyQueuedAsync().WaitAsync(cancellationToken);
        await index.EstimateCompletion.WaitAsync(cancellationToken);

        // Assert: the worker's turn after the last link estimated the whole graph.
        Assert.Multiple(() =>
        {
            Assert.That(index.PendingCount, Is.Zero);
            Assert.That(startedWhileStaged, Is.False);
            Assert.That(estimatedAt ?? 0, Is.LessThan(401), "no estimate of the graph half linked");
            Assert.That(index.Hnsw.Estimate?.AtCount, Is.EqualTo(4_001));
        });
    }

    private Chroma.Protocol.V1.Record[] _backlog = [];

    /// <summary>The store sequence of the record whose vector is [<paramref name="value"/>, 0, 0, 0].</summary>
    private long SequenceOf(Chroma.Server.Storage.StoredEmbeddingSet set, int value)
    {
        var found = -1L;
        _fixture.Store.Store.ReadVectors(set, (sequence, vector, _) =>
        {
            if (vector[0] == value)
            {
                found = sequence;
            }
        });
        return found;
    }

    /// <summary>A set whose index is a graph holding one vector, and <paramref name="backlog"/> records committed after it unindexed (the set woken).</summary>
    private async Task<(Chroma.Server.Storage.StoredEmbeddingSet Set, AdaptiveVectorIndex Index)> GraphWithBacklogAsync(
        int backlog, CancellationToken cancellationToken, int dimension = 4, int linked = 1)
    {
        await _fixture.IngestAsync(Records.Set(dimension), Records.Sequence(linked, dimension));
        var set = _fixture.Store.RequireSet(Records.Set(dimension));
        var index = await _fixture.Indexes.LoadAsync(set).WaitAsync(cancellationToken);
        await _fixture.Indexes.ApplyQueuedAsync().WaitAsync(cancellationToken);
        Assert.That(index.Hnsw, Is.Not.Null, "precondition: the graph answers from the first vector");
        Assert.That(index.Hnsw!.Count, Is.EqualTo(linked), "precondition: the first records are linked");
        _backlog = Records.Sequence(backlog, dimension, start: linked);
        await _fixture.IngestUnindexedAsync(Records.Set(dimension), _backlog);
        _fixture.Indexes.Poll(); // wakes the set, as the worker's poll (or another server's notice) would
        return (set, index);
    }

    /// <summary>A background save whose file write is held on its thread until <see cref="Release"/>.</summary>
    private sealed class HeldSaveWrite : IDisposable
    {
        private readonly SemaphoreSlim _writing = new(0);
        private readonly ManualResetEventSlim _release = new(false);
        private readonly EmbeddingSetIndexes _indexes;
        private readonly CancellationToken _cancellationToken;

        public HeldSaveWrite(EmbeddingSetIndexes indexes, CancellationToken cancellationToken)
        {
            _indexes = indexes;
            _cancellationToken = cancellationToken;
            indexes.BeforeSaveWrite = () =>
            {
                _writing.Release();
                _release.Wait(cancellationToken);
            };
        }

        /// <summary>Starts the saves and returns how many, once the write has begun.</summary>
        public async Task<int> StartAsync()
        {
            var started = await _indexes.StartSavesAsync().WaitAsync(_cancellationToken);
            Assert.That(await _writing.WaitAsync(TimeSpan.FromSeconds(20), _cancellationToken), Is.True, "precondition: the write began");
            return started;
        }

        public void Release() => _release.Set();

        public void Dispose()
        {
            _release.Set();
            _writing.Dispose();
            _release.Dispose();
        }
    }
}
