using System.Runtime.CompilerServices;
using Chroma.Server.Indexing;
using Chroma.Server.Indexing.Internal;
using Chroma.Server.Tests.Indexing.Hnsw;

namespace Chroma.Server.Tests.Indexing;

[TestFixture]
public sealed class AdaptiveVectorIndexTests : IndexBuildThreadsFixture
{
    private const int Dimension = 16;

    [Test]
    public void StartBuildIfLarge_BelowThreshold_StaysExact()
    {
        // Arrange
        using var index = new AdaptiveVectorIndex(Dimension, threshold: 100, Settings);
        var vectors = TestVectors.Uniform(99, Dimension, seed: 1);
        Fill(index, vectors);

        // Act
        var started = index.StartBuildIfLarge();

        // Assert
        Assert.Multiple(() =>
        {
            Assert.That(started, Is.False);
            Assert.That(index.Hnsw, Is.Null, "exact search answers below the threshold");
            Assert.That(index.Search(vectors[42], 1).Single().Sequence, Is.EqualTo(42));
        });
    }

    [Test, CancelAfter(30_000)]
    public async Task StartBuildIfLarge_AtThreshold_SwitchesToHnswKeepingChangesMadeMeanwhile()
    {
        // Arrange
        using var index = new AdaptiveVectorIndex(Dimension, threshold: 500, Settings with { StepSize = 64 });
        var vectors = TestVectors.Uniform(600, Dimension, seed: 2);
        Fill(index, vectors[..500]);

        // Act: changes right after the snapshot are replayed onto the graph (or applied to it, if it already took over).
        var started = index.StartBuildIfLarge();
        for (var i = 500; i < 600; i++)
        {
            index.Add(i, vectors[i], "training");
        }

        index.Remove(7);
        await index.BuildCompletion;

        // Assert
        Assert.Multiple(() =>
        {
            Assert.That(started, Is.True);
            Assert.That(index.Hnsw, Is.Not.Null, "the graph took over");
            Assert.That(index.Count, Is.EqualTo(599));
            Assert.That(index.Search(vectors[550], 1).Single().Sequence, Is.EqualTo(550), "added during the build");
            Assert.That(index.Search(vectors[7], 1).Single().Sequence, Is.Not.EqualTo(7), "removed during the build");
            Assert.That(index.StartBuildIfLarge(), Is.False, "a set is built once");
        });
    }

    [TestCase(0, true, TestName = "StartEstimateIfStale_EstimateOfAnOlderScheme_IsTakenAgain")]
    [TestCase(RecallEstimator.Scheme, false, TestName = "StartEstimateIfStale_EstimateOfTheCurrentScheme_Stands")]
    [CancelAfter(30_000)]
    public async Task StartEstimateIfStale_BySchemeAtTheSameSize(int scheme, bool expected)
    {
        // Arrange: a built graph whose estimate is replaced by one of the same size (as a file saved earlier gives).
        using var index = new AdaptiveVectorIndex(Dimension, threshold: 300, Settings with { StepSize = 64 });
        Fill(index, TestVectors.Uniform(400, Dimension, seed: 5));
        index.StartBuildIfLarge();
        await index.BuildCompletion;
        index.Hnsw!.Estimate = new RecallEstimate(1024, 0.9, 200, index.Count, NearDistance: 0, Scheme: scheme);

        // Act
        var started = index.StartEstimateIfStale();
        await index.EstimateCompletion;

        // Assert
        Assert.Multiple(() =>
        {
            Assert.That(started, Is.EqualTo(expected));
            Assert.That(index.Hnsw.Estimate!.Scheme, Is.EqualTo(RecallEstimator.Scheme));
            Assert.That(index.Hnsw.Estimate.SearchBreadth, Is.EqualTo(expected ? 64 : 1024), "taken again: this easy graph needs the narrowest breadth");
        });
    }

    [Test, CancelAfter(30_000)]
    public async Task BuildCompletion_AfterTheTakeOver_ExactIndexAndItsVectorsAreCollectable()
    {
        // Arrange: a large set's exact vectors are hundreds of MiB, so nothing may keep them once the graph answers
        // (the build's snapshot shares its chunks). Weak references, taken in a method of their own so that no local
        // of this one keeps the objects alive.
        using var index = new AdaptiveVectorIndex(Dimension, threshold: 500, Settings with { StepSize = 64 });
        Fill(index, TestVectors.Uniform(500, Dimension, seed: 9));
        var (exact, vectors) = WeakExactIndex(index);

        // Act
        Assert.That(index.StartBuildIfLarge(), Is.True);
        await index.BuildCompletion;
        await index.EstimateCompletion;
        GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
        GC.WaitForPendingFinalizers();
        GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);

        // Assert
        Assert.Multiple(() =>
        {
            Assert.That(index.Hnsw, Is.Not.Null, "the graph took over");
            Assert.That(exact.IsAlive, Is.False, "the exact index is unreachable after the take-over");
            Assert.That(vectors.IsAlive, Is.False, "its vector chunks (shared with the build's snapshot) are unreachable");
        });
    }

    [TestCase(500, Dimension, 1, TestName = "BuildCompletion_BuildOfTheSize_ReturnsFreedMemoryOnceAfterTheTakeOver")]
    [TestCase(499, Dimension, 0, TestName = "BuildCompletion_SmallerBuild_LeavesTheCollectorAlone")]
    [TestCase(250, 2 * Dimension, 1, TestName = "BuildCompletion_HalfTheRowsTwiceAsWide_ReturnsFreedMemory")]
    public async Task BuildCompletion_ReturnFreedMemory(int rows, int dimension, int expectedCalls)
    {
        // Arrange: the threshold is 500 rows of Dimension floats; the hook records whether the graph had taken over when
        // it ran (only then are the exact index and the snapshot garbage).
        AdaptiveVectorIndex? index = null;
        var calls = 0;
        var answeredByGraph = false;
        var settings = Settings with
        {
            StepSize = 64,
            ReturnFreedMemoryFromFloats = 500 * Dimension,
            ReturnFreedMemory = () =>
            {
                calls++;
                answeredByGraph = index!.Hnsw is not null;
            },
        };
        using (index = new AdaptiveVectorIndex(dimension, threshold: rows, settings))
        {
            Fill(index, TestVectors.Uniform(rows, dimension, seed: 12));

            // Act
            Assert.That(index.StartBuildIfLarge(), Is.True);
            await index.BuildCompletion;

            // Assert
            Assert.Multiple(() =>
            {
                Assert.That(calls, Is.EqualTo(expectedCalls));
                Assert.That(answeredByGraph, Is.EqualTo(expectedCalls > 0), "the memory is returned after the take-over, not before");
                Assert.That(index.Hnsw, Is.Not.Null);
            });
        }
    }

    [Test, CancelAfter(30_000)]
    public async Task BuildCompletion_WhenFreedMemoryIsReturned_ExactIndexAndSnapshotAreAlreadyUnreachable()
    {
        // Arrange: the collection after the take-over returns only what is garbage by then, so nothing the build still
        // runs (its async state, closures, parameters) may keep the exact index or the snapshot's vectors alive. The hook
        // collects and looks at weak references to both.
        var exactAlive = true;
        var vectorsAlive = true;
        (WeakReference Exact, WeakReference Vectors)? weak = null;
        var settings = Settings with
        {
            StepSize = 64,
            ReturnFreedMemoryFromFloats = 500 * Dimension,
            ReturnFreedMemory = () =>
            {
                GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
                GC.WaitForPendingFinalizers();
                GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
                exactAlive = weak!.Value.Exact.IsAlive;
                vectorsAlive = weak.Value.Vectors.IsAlive;
            },
        };
        using var index = new AdaptiveVectorIndex(Dimension, threshold: 500, settings);
        Fill(index, TestVectors.Uniform(500, Dimension, seed: 15));
        weak = WeakExactIndex(index);

        // Act
        Assert.That(index.StartBuildIfLarge(), Is.True);
        await index.BuildCompletion;

        // Assert
        Assert.Multiple(() =>
        {
            Assert.That(index.Hnsw, Is.Not.Null, "the graph took over");
            Assert.That(exactAlive, Is.False, "the exact index is unreachable when the memory is returned");
            Assert.That(vectorsAlive, Is.False, "its vectors (shared with the build's snapshot) are unreachable when the memory is returned");
        });
    }

    [Test, CancelAfter(30_000)]
    public async Task BuildCompletion_ExactIndexGrewDuringTheBuild_SizeCountsWhatTheTakeOverDrops()
    {
        // Arrange: a build of a small snapshot (300) while records keep coming (300 more, held in the exact index until
        // the take-over): the garbage is the exact index of 600, so a size of 500 calls for the memory back.
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var calls = 0;
        var settings = Settings with
        {
            StepSize = 64,
            ReturnFreedMemoryFromFloats = 500 * Dimension,
            ReturnFreedMemory = () => calls++,
            OnStep = async (_, token) => await release.Task.WaitAsync(token),
        };
        using var index = new AdaptiveVectorIndex(Dimension, threshold: 300, settings);
        var vectors = TestVectors.Uniform(600, Dimension, seed: 14);
        Fill(index, vectors[..300]);

        // Act: the records arrive while the build waits after its first step.
        Assert.That(index.StartBuildIfLarge(), Is.True);
        for (var i = 300; i < 600; i++)
        {
            index.Add(i, vectors[i], "training");
        }

        release.SetResult();
        await index.BuildCompletion;

        // Assert
        Assert.Multiple(() =>
        {
            Assert.That(index.Hnsw, Is.Not.Null);
            Assert.That(index.Count, Is.EqualTo(600));
            Assert.That(calls, Is.EqualTo(1), "the dropped exact index held 600 >= 500, though the snapshot held 300");
        });
    }

    [Test, CancelAfter(30_000)]
    public async Task BuildCompletion_ManyChangesDuringTheBuild_GraphHoldsEachAddedVectorAndNoRemovedRecord()
    {
        // Arrange: 1,000 records arrive while the build waits after its first step (more than the take-over replays under
        // its lock, so they are taken in shares with their vectors copied from the exact index); 50 of them, and 50
        // of the snapshot, are deleted again before the build goes on.
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var settings = Settings with { StepSize = 64, OnStep = async (_, token) => await release.Task.WaitAsync(token) };
        using var index = new AdaptiveVectorIndex(Dimension, threshold: 300, settings);
        var vectors = TestVectors.Uniform(1_300, Dimension, seed: 15);
        Fill(index, vectors[..300]);
        Assert.That(index.StartBuildIfLarge(), Is.True);
        for (var i = 300; i < 1_300; i++)
        {
            index.Add(i, vectors[i], i % 2 == 0 ? "production" : "training");
        }

        var removed = Enumerable.Range(0, 50).Select(i => (long)(i * 6)).Concat(Enumerable.Range(0, 50).Select(i => 301L + (i * 20))).ToHashSet();
        foreach (var sequence in removed)
        {
            index.Remove(sequence);
        }

        var logged = index.ChangesAwaitingBuild;

        // Act
        release.SetResult();
        await index.BuildCompletion;

        // Assert: every record still held is its own nearest in its dataset at distance 0; none removed is in the graph.
        var graph = index.Hnsw!;
        var exact = new NearestSearchOptions(Exact: true);
        var kept = Enumerable.Range(0, 1_300).Where(i => !removed.Contains(i)).ToList();
        Assert.Multiple(() =>
        {
            Assert.That(logged, Is.EqualTo(1_100), "1,000 additions and 100 removals logged");
            Assert.That(graph.Graph.LiveKeys().Order(), Is.EqualTo(kept.Select(i => (long)i)));
            foreach (var i in kept.Where(i => i >= 300))
            {
                var dataset = i % 2 == 0 ? "production" : "training";
                Assert.That(index.Search(vectors[i], 1, dataset, exact).Single(), Is.EqualTo(new VectorNeighbor(i, 0f)), $"record {i}");
            }
        });
    }

    [Test]
    public async Task BuildCompletion_ReturnFreedMemoryThrows_GraphStillAnswers()
    {
        // Arrange: the hook runs after the take-over; whatever it does cannot undo it.
        var settings = Settings with
        {
            StepSize = 64,
            ReturnFreedMemoryFromFloats = 1,
            ReturnFreedMemory = () => throw new InvalidOperationException("collector trouble"),
        };
        using var index = new AdaptiveVectorIndex(Dimension, threshold: 300, settings);
        var vectors = TestVectors.Uniform(300, Dimension, seed: 13);
        Fill(index, vectors);

        // Act
        Assert.That(index.StartBuildIfLarge(), Is.True);
        var error = Assert.CatchAsync<InvalidOperationException>(async () => await index.BuildCompletion);

        // Assert
        Assert.Multiple(() =>
        {
            Assert.That(error!.Message, Is.EqualTo("collector trouble"));
            Assert.That(index.Hnsw, Is.Not.Null, "the graph took over before the hook ran");
            Assert.That(index.Search(vectors[42], 1).Single().Sequence, Is.EqualTo(42));
            Assert.That(index.StartBuildIfLarge(), Is.False, "no second build");
        });
    }

    [Test]
    public void FreedMemory_ReturnToOperatingSystem_ReportsResidentMemoryAndTime()
    {
        // Act: a real aggressive collection (what a large build ends with).
        var (before, after, heap, committed, elapsed) = FreedMemory.ReturnToOperatingSystem();

        // Assert: the figures the log line prints are the process's.
        Assert.Multiple(() =>
        {
            Assert.That(before, Is.GreaterThan(1), "MiB resident before");
            Assert.That(after, Is.GreaterThan(1), "MiB resident after");
            Assert.That(heap, Is.GreaterThan(0), "MiB of managed heap after");
            Assert.That(committed, Is.GreaterThanOrEqualTo(heap), "MiB the collector keeps committed: at least the heap");
            Assert.That(elapsed, Is.GreaterThanOrEqualTo(TimeSpan.Zero));
        });
    }

    [Test]
    public void Search_HnswWithDataset_ReturnsOnlyThatDataset()
    {
        // Arrange: threshold 0 means HNSW from the first record.
        using var index = new AdaptiveVectorIndex(Dimension, threshold: 0, Settings);
        var vectors = TestVectors.Uniform(300, Dimension, seed: 3);
        for (var i = 0; i < vectors.Length; i++)
        {
            index.Add(i, vectors[i], i % 3 == 0 ? "production" : "training");
        }

        // Act
        var production = index.Search(vectors[1], 10, "production");
        var unknown = index.Search(vectors[1], 10, "validation");

        // Assert
        Assert.Multiple(() =>
        {
            Assert.That(index.Hnsw, Is.Not.Null);
            Assert.That(production, Has.Count.EqualTo(10));
            Assert.That(production.All(n => n.Sequence % 3 == 0), Is.True);
            Assert.That(production.Select(n => n.Distance), Is.Ordered);
            Assert.That(unknown, Is.Empty);
        });
    }

    [Test]
    public void Add_ExistingSequenceInHnsw_ReplacesItsVector()
    {
        // Arrange
        using var index = new AdaptiveVectorIndex(Dimension, threshold: 0, Settings);
        var vectors = TestVectors.Uniform(50, Dimension, seed: 4);
        Fill(index, vectors);

        // Act
        index.Add(3, vectors[40], "training");

        // Assert: squared L2 of identical vectors is 0, and the old vector no longer matches record 3.
        var nearNew = index.Search(vectors[40], 2);
        Assert.Multiple(() =>
        {
            Assert.That(index.Count, Is.EqualTo(50));
            Assert.That(nearNew.Select(n => n.Sequence), Is.EquivalentTo(new long[] { 3, 40 }));
            Assert.That(nearNew[0].Distance, Is.Zero);
            Assert.That(index.Search(vectors[3], 1).Single().Sequence, Is.Not.EqualTo(3));
        });
    }

    [Test, CancelAfter(120_000)]
    public async Task StartBuildIfLarge_Built_EstimatesRecallThatHoldsOnUnseenQueries(CancellationToken cancellationToken)
    {
        // Arrange: clustered vectors, where a narrow beam misses neighbours, and queries the estimate never saw.
        var all = TestVectors.Clustered(20_300, Dimension, clusters: 40, seed: 5);
        var vectors = all[..20_000];
        var queries = all[20_000..];
        using var index = new AdaptiveVectorIndex(Dimension, threshold: 1_000, Settings);
        Fill(index, vectors);

        // Act
        index.StartBuildIfLarge();
        await index.BuildCompletion.WaitAsync(cancellationToken);
        var estimate = index.Hnsw!.Estimate;
        var status = index.Status();

        // Assert: recall@10 at the chosen default breadth, measured against exact search on unseen queries.
        double hits = 0;
        foreach (var query in queries)
        {
            var exact = index.Search(query, 10, options: new NearestSearchOptions(Exact: true)).Select(n => n.Sequence).ToHashSet();
            hits += index.Search(query, 10).Count(n => exact.Contains(n.Sequence));
        }

        var recall = hits / (queries.Length * 10);
        Assert.Multiple(() =>
        {
            Assert.That(estimate, Is.Not.Null);
            Assert.That(estimate!.RecallAt10, Is.GreaterThanOrEqualTo(RecallEstimator.TargetRecall));
            Assert.That(estimate.AtCount, Is.EqualTo(20_000));
            Assert.That(status, Is.EqualTo(new IndexStatus(SetIndexKind.Hnsw, 20_000, 20_000, estimate.SearchBreadth, estimate)));
            Assert.That(recall, Is.GreaterThanOrEqualTo(0.93), $"unseen-query recall@10 at breadth {estimate.SearchBreadth} (estimate {estimate.RecallAt10:F3})");
        });
    }

    [Test]
    public void Search_ExactOnHnsw_EqualsBruteForceEvenWithANarrowBeam()
    {
        // Arrange
        using var index = new AdaptiveVectorIndex(Dimension, threshold: 0, Settings);
        var vectors = TestVectors.Clustered(3_000, Dimension, clusters: 20, seed: 6);
        Fill(index, vectors);
        var brute = new BruteForceVectorIndex(Dimension);
        for (var i = 0; i < vectors.Length; i++)
        {
            brute.Add(i, vectors[i], "training");
        }

        // Act / Assert: every query's exact answer equals the scan's, whatever the breadth says.
        foreach (var query in TestVectors.Clustered(50, Dimension, clusters: 20, seed: 7))
        {
            var exact = index.Search(query, 10, options: new NearestSearchOptions(Breadth: 1, Exact: true));
            Assert.That(exact.Select(n => n.Sequence), Is.EqualTo(brute.Search(query, 10).Select(n => n.Sequence)));
        }
    }

    [Test, CancelAfter(60_000)]
    public async Task Search_CosineSetBeforeAndAfterBuild_SameNeighboursAndOneMinusCosineDistances(CancellationToken cancellationToken)
    {
        // Arrange: scaled copies of clustered vectors, so only the direction decides under cosine.
        var vectors = TestVectors.Clustered(1_200, Dimension, clusters: 12, seed: 9).Select((v, i) => v.Select(x => x * (1 + (i % 5))).ToArray()).ToArray();
        using var index = new AdaptiveVectorIndex(Dimension, threshold: 1_000, Settings, metric: Server.Indexing.Hnsw.HnswMetric.Cosine);
        Fill(index, vectors);
        var queries = TestVectors.Clustered(20, Dimension, clusters: 12, seed: 10);
        var beforeBuild = queries.Select(q => index.Search(q, 10)).ToList();

        // Act
        Assert.That(index.StartBuildIfLarge(), Is.True);
        await index.BuildCompletion.WaitAsync(cancellationToken);
        var afterBuild = queries.Select(q => index.Search(q, 10, options: new NearestSearchOptions(Exact: true))).ToList();

        // Assert
        Assert.That(index.Hnsw, Is.Not.Null);
        Assert.That(index.Hnsw!.Metric, Is.EqualTo(Server.Indexing.Hnsw.HnswMetric.Cosine));
        for (var q = 0; q < queries.Length; q++)
        {
            var query = queries[q];
            var cosine = afterBuild[q].Select(n => 1 - (Dot(vectors[n.Sequence], query) / Math.Sqrt(Dot(vectors[n.Sequence], vectors[n.Sequence]) * Dot(query, query))));
            Assert.That(afterBuild[q].Select(n => n.Sequence), Is.EqualTo(beforeBuild[q].Select(n => n.Sequence)), $"query {q}");
            Assert.That(afterBuild[q].Select(n => (double)n.Distance), Is.EqualTo(cosine).Within(1e-4), $"query {q}");
            Assert.That(beforeBuild[q].Select(n => n.Distance), Is.EqualTo(afterBuild[q].Select(n => n.Distance)).Within(1e-4f), $"query {q}");
        }
    }

    [Test, CancelAfter(60_000)]
    public async Task StartEstimateIfStale_GrewByATenth_ReestimatesAtTheNewSize(CancellationToken cancellationToken)
    {
        // Arrange: an HNSW index from the start, estimated at 2 000 vectors.
        using var index = new AdaptiveVectorIndex(Dimension, threshold: 0, Settings);
        var vectors = TestVectors.Clustered(2_300, Dimension, clusters: 10, seed: 8);
        Fill(index, vectors[..2_000]);
        Assert.That(index.StartEstimateIfStale(), Is.True, "no estimate yet");
        await index.EstimateCompletion.WaitAsync(cancellationToken);
        var first = index.Hnsw!.Estimate;

        // Act: +5% is not stale yet, +15% is.
        for (var i = 2_000; i < 2_100; i++)
        {
            index.Add(i, vectors[i], "training");
        }

        var staleAt2100 = index.StartEstimateIfStale();
        for (var i = 2_100; i < 2_300; i++)
        {
            index.Add(i, vectors[i], "training");
        }

        var staleAt2300 = index.StartEstimateIfStale();
        await index.EstimateCompletion.WaitAsync(cancellationToken);

        // Assert
        Assert.Multiple(() =>
        {
            Assert.That(first!.AtCount, Is.EqualTo(2_000));
            Assert.That(staleAt2100, Is.False);
            Assert.That(staleAt2300, Is.True);
            Assert.That(index.Hnsw.Estimate!.AtCount, Is.EqualTo(2_300));
        });
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static (WeakReference Exact, WeakReference Vectors) WeakExactIndex(AdaptiveVectorIndex index)
    {
        var (exact, chunks) = AdaptiveIndexInternals.ExactIndex(index);
        return (new WeakReference(exact), new WeakReference(chunks[0]));
    }

    private static void Fill(AdaptiveVectorIndex index, float[][] vectors) => AdaptiveIndexInternals.Fill(index, vectors);

    private static double Dot(float[] a, float[] b) => a.Zip(b, (x, y) => (double)x * y).Sum();
}
