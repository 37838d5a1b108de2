using Chroma.Server.Indexing;
using Chroma.Server.Indexing.Hnsw;
using Chroma.Server.Tests.Indexing.Hnsw;

namespace Chroma.Server.Tests.Indexing;

/// <summary>
/// A batch of staged vectors enters the graph one insert at a time and leaves the staged tail together once every one
/// is in: the index's size (ListSets' indexed_count) counts each of them once all the while. Read from the two
/// structures as they stood, it exceeded the set's records by the part of the batch already inserted (the probe's
/// 150,024 for 150,000 records, no deletion). The link's loop is the test's own, so the reads fall exactly mid-batch.
/// </summary>
[TestFixture]
public sealed class PendingLinkCountTests : IndexBuildThreadsFixture
{
    private const int Dimension = 8;
    private const int Staged = 600;

    [Test, CancelAfter(60_000)]
    public async Task Count_ReadWhileABatchIsLinked_EveryRecordCountedOnce(CancellationToken cancellationToken)
    {
        // Arrange: one vector in the graph, 600 staged behind it; the batch links 400 of them.
        var (vectors, index) = StagedBehindOneNode();
        using var disposeIndex = index;
        var seen = new List<(int Count, IndexStatus Status)>();

        // Act: read the size after each 100 inserts of the batch, and once all 400 are in but still staged.
        var linked = await index.LinkPendingAsync(400, (count, body) =>
        {
            for (var i = 0; i < count; i++)
            {
                body(i);
                if ((i + 1) % 100 == 0)
                {
                    seen.Add((index.Count, index.Status()));
                }
            }

            return Task.CompletedTask;
        }).WaitAsync(cancellationToken);

        // Assert: 601 records all the while; what ListSets reports as staged (indexed - graph) is the tail.
        Assert.Multiple(() =>
        {
            Assert.That(linked, Is.EqualTo(400));
            Assert.That(index.Hnsw!.Graph.Count, Is.EqualTo(401), "precondition: the batch was inserted");
            Assert.That(seen.Select(s => s.Count), Is.EqualTo(Enumerable.Repeat(vectors.Length, 4)), "Count mid-batch");
            Assert.That(seen.Select(s => s.Status.Count), Is.EqualTo(Enumerable.Repeat(vectors.Length, 4)), "Status().Count mid-batch");
            Assert.That(seen.Select(s => s.Status.Count - s.Status.GraphCount), Is.EqualTo(Enumerable.Repeat(Staged, 4)), "staged = indexed - graph");
            Assert.That(index.Count, Is.EqualTo(vectors.Length), "after the batch");
            Assert.That(index.Status(), Has.Property(nameof(IndexStatus.GraphCount)).EqualTo(401).And.Property(nameof(IndexStatus.Count)).EqualTo(vectors.Length));
        });
    }

    [Test, CancelAfter(60_000)]
    public async Task LinkPendingAsync_BatchFailsPartWay_StaysStagedAndCountedOnceThenLinksNextTime(CancellationToken cancellationToken)
    {
        // Arrange: the batch's loop fails after inserting half of it.
        var (vectors, index) = StagedBehindOneNode();
        using var disposeIndex = index;

        // Act
        var failed = index.LinkPendingAsync(Staged, (count, body) =>
        {
            for (var i = 0; i < count / 2; i++)
            {
                body(i);
            }

            throw new InvalidOperationException("an insert failed");
        });
        var error = Assert.ThrowsAsync<InvalidOperationException>(async () => await failed.WaitAsync(cancellationToken));
        var afterFailure = (index.Count, index.Hnsw!.Graph.Count, index.PendingCount);
        var missing = Enumerable.Range(0, vectors.Length).Count(i => index.Search(vectors[i], 1) is not [{ Distance: 0 }]);
        var relinked = await index.LinkPendingAsync(Staged, InOrder).WaitAsync(cancellationToken);

        // Assert: the failure surfaces; the batch is still staged and found, the graph holds none of it (no record twice);
        // the next link takes it whole.
        Assert.Multiple(() =>
        {
            Assert.That(error?.Message, Is.EqualTo("an insert failed"));
            Assert.That(afterFailure, Is.EqualTo((vectors.Length, 1, Staged)), "count, graph, staged after the failure");
            Assert.That(missing, Is.Zero, "every record is found by its own vector");
            Assert.That(relinked, Is.EqualTo(Staged));
            Assert.That((index.Count, index.Hnsw!.Graph.Count, index.PendingCount), Is.EqualTo((vectors.Length, vectors.Length, 0)));
        });
    }

    [TestCase(new[] { 0, 1, 2, 3, 4 }, 5, TestName = "LinkPendingAsync_Interrupted_TheInsertedOldestAreLinkedTheRestStayStaged")]
    [TestCase(new[] { 0, 1, 2, 4, 5 }, 3, TestName = "LinkPendingAsync_InterruptedWithAGap_WhatFollowsTheGapLeavesTheGraphAgain")]
    [TestCase(new int[0], 16, TestName = "LinkPendingAsync_InterruptedBeforeAnyInsert_TheOldestSixteenAreLinkedAnyway")]
    [TestCase(new[] { 20 }, 16, TestName = "LinkPendingAsync_InterruptedWithOnlyALaterInsert_TheOldestSixteenAreLinkedAndTheLaterLeaves")]
    [CancelAfter(60_000)]
    public async Task LinkPendingAsync_Interrupted(int[] insertedBeforeTheQuery, int linkedRun, CancellationToken cancellationToken)
    {
        // Arrange: a batch of 30 whose loop is cancelled (a query began to wait) after inserting some of it; with parallel
        // chunks the inserted ones need not be a run from the oldest.
        var (vectors, index) = StagedBehindOneNode();
        using var disposeIndex = index;

        // Act
        var linked = await index.LinkPendingAsync(30, (count, body) =>
        {
            foreach (var i in insertedBeforeTheQuery)
            {
                body(i);
            }

            throw new OperationCanceledException();
        }).WaitAsync(cancellationToken);
        var graph = index.Hnsw!.Graph;
        var afterInterruption = (index.Count, graph.Count, index.PendingCount);
        var oldestStaged = index.LinkedThrough(long.MaxValue) + 1;
        var relinked = await index.LinkPendingAsync(Staged, InOrder).WaitAsync(cancellationToken);

        // Assert: records 1..linkedRun are in the graph; the rest are staged, found by the scan, and link next time.
        Assert.Multiple(() =>
        {
            Assert.That(linked, Is.EqualTo(linkedRun));
            Assert.That(afterInterruption, Is.EqualTo((vectors.Length, 1 + linkedRun, Staged - linkedRun)), "count, graph, staged after the interruption");
            Assert.That(oldestStaged, Is.EqualTo(1 + linkedRun), "every vector in the graph is older than every staged one");
            Assert.That(index.Search(vectors[21], 1).Single().Sequence, Is.EqualTo(21), "an insert past the gap is still found");
            Assert.That(relinked, Is.EqualTo(Staged - linkedRun));
            Assert.That((index.Count, graph.Count, index.PendingCount), Is.EqualTo((vectors.Length, vectors.Length, 0)));
        });
    }

    // One vector in the graph and Staged more staged behind it (distinct, so each is found by its own vector).
    private (float[][] Vectors, AdaptiveVectorIndex Index) StagedBehindOneNode()
    {
        var vectors = TestVectors.Uniform(1 + Staged, Dimension, seed: 5);
        var graph = new HnswVectorIndex(Dimension);
        graph.Add(0, vectors[0], "training");
        var index = new AdaptiveVectorIndex(graph, Settings);
        for (var i = 1; i < vectors.Length; i++)
        {
            index.Stage(i, vectors[i], "training");
        }

        return (vectors, index);
    }

    private static Task InOrder(int count, Action<int> body)
    {
        for (var i = 0; i < count; i++)
        {
            body(i);
        }

        return Task.CompletedTask;
    }
}
