using Chroma.Protocol.V1;
using Chroma.Server.Indexing;
using Chroma.Server.Storage;
using Chroma.Server.Tests.Indexing.Hnsw;
using Chroma.Server.Tests.TestSupport;

namespace Chroma.Server.Tests.Indexing;

/// <summary>
/// Once most of a set's graph is deleted records, it is rebuilt from its live vectors in the background: while the rebuild
/// is held, records logged meanwhile are found at once (staged, not behind) and deletions apply; once it takes over, the
/// staged records are linked, the tombstones are gone, and a restart loads the rebuilt graph. Real SQLite store, real graph.
/// </summary>
[TestFixture]
public sealed class IndexCompactionTests
{
    private const int Dimension = 8;
    private const int First = 4_000;
    private const int Deleted = 3_000;
    private const int Meanwhile = 600;
    private static readonly EmbeddingSetDescriptor Set = Records.Set(Dimension);

    private IndexRegistryFixture _fixture = null!;

    [SetUp]
    public void SetUp()
    {
        _fixture = new IndexRegistryFixture(threshold: 300);
        _fixture.Indexes.BuildStepSize = 500;
        _fixture.Indexes.CatchUpPageSize = 1_000;
    }

    [TearDown]
    public void TearDown() => _fixture.Dispose();

    [Test, CancelAfter(120_000)]
    public async Task ApplyQueuedAsync_MostOfTheGraphDeleted_RebuildsBesideIngestAndDeletesAndARestartLoadsTheRebuiltGraph(CancellationToken cancellationToken)
    {
        // Arrange: a graph of 4,000 records, then 3,000 of them deleted; the compaction this starts is held after its
        // first step (500 of the 1,000 live vectors copied). The staged tail is held to a quarter of the graph (250
        // records) outside a compaction, and may hold 2,000.
        _fixture.Indexes.CatchUpPageSize = 100;
        _fixture.Indexes.SmallestStagedFloats = 100 * Dimension;
        _fixture.Indexes.PendingFloatLimit = 2_000 * Dimension;
        var vectors = TestVectors.Clustered(First + Meanwhile, Dimension, clusters: 8, seed: 93);
        var records = vectors.Select(v => Records.Make(v)).ToArray();
        var (set, index, release) = await HoldCompactionAsync(records[..First], cancellationToken);

        // Act: while it is held, 600 records are logged, then 100 live old ones and 10 of the new ones deleted.
        await _fixture.IngestAsync(Set, records[First..]);
        await _fixture.Indexes.ApplyQueuedAsync().WaitAsync(cancellationToken);
        var during = new List<NearestAnswer>();
        foreach (var row in new[] { First, First + 1, First + (Meanwhile / 2), First + Meanwhile - 1, Deleted, First - 1 })
        {
            during.Add(await _fixture.Indexes.FindAsync(set, vectors[row], 1, null, default, cancellationToken).WaitAsync(cancellationToken));
        }

        var deletedMeanwhile = Enumerable.Range(Deleted, 100).Concat(Enumerable.Range(First, 10)).ToArray();
        await _fixture.DeleteAsync(set, [.. deletedMeanwhile.Select(i => records[i].Id)]);
        await _fixture.Indexes.ApplyQueuedAsync().WaitAsync(cancellationToken);
        var stateDuring = (index.Compacting, index.PendingCount, index.Hnsw!.Graph.DeletedCount >= Deleted);
        var deletedFoundDuring = await FoundByOwnVectorAsync(set, deletedMeanwhile, vectors, cancellationToken);
        release.SetResult();
        await index.CompactionCompletion.WaitAsync(cancellationToken);
        await _fixture.Indexes.ApplyQueuedAsync().WaitAsync(cancellationToken);
        var live = Enumerable.Range(Deleted, First + Meanwhile - Deleted).Except(deletedMeanwhile).ToArray();
        var liveMissing = live.Where(i => index.Search(vectors[i], 1) is not [{ Distance: 0 }]).ToList();
        var deletedFound = await FoundByOwnVectorAsync(set, [.. Enumerable.Range(0, Deleted).Concat(deletedMeanwhile)], vectors, cancellationToken);
        await index.EstimateCompletion.WaitAsync(cancellationToken);
        var estimatedAt = index.Hnsw!.Estimate?.AtCount;
        var nodesAfter = index.Hnsw!.Graph.NodeCount;
        _fixture.Indexes.SaveChanged();
        _fixture.Restart();
        var reloaded = await _fixture.Indexes.LoadAsync(set).WaitAsync(cancellationToken);
        await _fixture.Indexes.ApplyQueuedAsync().WaitAsync(cancellationToken);

        // Assert
        Assert.Multiple(() =>
        {
            Assert.That(during.Select(a => a.IndexBehind), Is.All.False, "records logged during the rebuild are indexed at once");
            Assert.That(during.Select(a => a.Neighbors.Single().Distance), Is.All.Zero, "new and old live records are found by their own vectors");
            Assert.That(stateDuring, Is.EqualTo((true, Meanwhile - 10, true)), "the rebuild was still held: the new records wait staged, more than a quarter of the graph");
            Assert.That(deletedFoundDuring, Is.Empty, "records deleted during the rebuild are not found");
            Assert.That(index.Compacting, Is.False);
            Assert.That(index.PendingCount, Is.Zero, "what was staged is linked into the rebuilt graph");
            Assert.That(index.Hnsw!.Count, Is.EqualTo(live.Length));
            Assert.That(nodesAfter, Is.LessThanOrEqualTo(First - Deleted + Meanwhile), "the 3,000 tombstones are gone");
            Assert.That(liveMissing, Is.Empty, "every live record is in the graph");
            Assert.That(estimatedAt, Is.EqualTo(live.Length), "the default breadth is estimated again on the rebuilt graph");
            Assert.That(deletedFound, Is.Empty, "no deleted record is found");
            Assert.That(Logged("Compacting the index"), Is.EqualTo(1));
            Assert.That(Logged("Compacted the index"), Is.EqualTo(1));
            Assert.That(_fixture.Indexes.GetLoadReport(set)!.FromFile, Is.True);
            Assert.That((reloaded.Hnsw!.Count, reloaded.Hnsw.Graph.NodeCount, reloaded.Compacting), Is.EqualTo((live.Length, nodesAfter, false)), "a restart loads the rebuilt graph and compacts nothing again");
        });
    }

    [TestCase(false, TestName = "SaveChanged_AfterACompactionAndNoOtherChange_WritesTheRebuiltGraph")]
    [TestCase(true, TestName = "SaveChanged_TheFirstSaveAfterACompactionFails_TheNextWritesTheRebuiltGraph")]
    [CancelAfter(120_000)]
    public async Task SaveChanged_AfterACompaction(bool firstSaveFails, CancellationToken cancellationToken)
    {
        // Arrange: the graph with its tombstones is saved while the compaction is held, so no applied change is left
        // unsaved when the rebuilt graph takes over.
        var records = TestVectors.Clustered(First, Dimension, clusters: 8, seed: 94).Select(v => Records.Make(v)).ToArray();
        var (set, index, release) = await HoldCompactionAsync(records, cancellationToken);
        _fixture.Indexes.SaveChanged();

        // Act: with firstSaveFails, every save after the compaction fails (logged) until the last one here: the one the
        // worker starts after the hand-over, and one more.
        if (firstSaveFails)
        {
            _fixture.Indexes.BeforeSaveWrite = () => throw new IOException("No space left on device");
        }

        release.SetResult();
        await index.CompactionCompletion.WaitAsync(cancellationToken);
        await _fixture.Indexes.ApplyQueuedAsync().WaitAsync(cancellationToken);
        if (firstSaveFails)
        {
            Assert.That(_fixture.Indexes.SaveChanged(), Is.Zero, "precondition: the saves failed");
            Assert.That(Logged("Could not save the index"), Is.GreaterThanOrEqualTo(1), "precondition: a save was tried and failed");
            _fixture.Indexes.BeforeSaveWrite = null;
        }

        _fixture.Indexes.SaveChanged();
        _fixture.Restart();
        var reloaded = await _fixture.Indexes.LoadAsync(set).WaitAsync(cancellationToken);

        // Assert
        Assert.Multiple(() =>
        {
            Assert.That(_fixture.Indexes.GetLoadReport(set)!.FromFile, Is.True);
            Assert.That((reloaded.Hnsw!.Count, reloaded.Hnsw.Graph.NodeCount), Is.EqualTo((First - Deleted, First - Deleted)), "the file holds the rebuilt graph");
            Assert.That(Logged("Compacting the index"), Is.EqualTo(1), "the restart compacts nothing again");
        });
    }

    /// <summary>
    /// Stores <paramref name="first"/> and builds its graph, deletes the first <see cref="Deleted"/> of them, and returns once
    /// the compaction that starts has copied its first step and waits: until <c>Release</c> is completed.
    /// </summary>
    private async Task<(StoredEmbeddingSet Set, AdaptiveVectorIndex Index, TaskCompletionSource Release)> HoldCompactionAsync(
        Record[] first, CancellationToken cancellationToken)
    {
        var held = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _fixture.Indexes.CompactionStepObserver = async (rebuild, token) =>
        {
            if (held.TrySetResult())
            {
                await release.Task.WaitAsync(token);
            }
        };
        await _fixture.IngestAsync(Set, first);
        var set = _fixture.Store.RequireSet(Set);
        var index = await _fixture.Indexes.LoadAsync(set).WaitAsync(cancellationToken);
        await index.BuildCompletion.WaitAsync(cancellationToken);
        await _fixture.Indexes.ApplyQueuedAsync().WaitAsync(cancellationToken);
        await _fixture.DeleteAsync(set, [.. first[..Deleted].Select(r => r.Id)]);
        await _fixture.Indexes.ApplyQueuedAsync().WaitAsync(cancellationToken);
        await held.Task.WaitAsync(cancellationToken);
        return (set, index, release);
    }

    private int Logged(string text) => _fixture.Log.Entries.Count(e => e.Message.Contains(text, StringComparison.Ordinal));

    // Rows whose own vector is answered at distance 0 by an exact search: found, so not deleted.
    private async Task<List<int>> FoundByOwnVectorAsync(StoredEmbeddingSet set, IEnumerable<int> rows, float[][] vectors, CancellationToken cancellationToken)
    {
        var found = new List<int>();
        foreach (var row in rows)
        {
            var answer = await _fixture.Indexes.FindAsync(set, vectors[row], 1, null, new NearestSearchOptions(Exact: true), cancellationToken).WaitAsync(cancellationToken);
            if (answer.Neighbors is [{ Distance: 0 }])
            {
                found.Add(row);
            }
        }

        return found;
    }
}
