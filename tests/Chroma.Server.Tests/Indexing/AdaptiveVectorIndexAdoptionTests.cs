using System.Runtime.CompilerServices;
using Chroma.Server.Indexing;
using Chroma.Server.Indexing.Hnsw;
using Chroma.Server.Indexing.Internal;
using Chroma.Server.Tests.Indexing.Hnsw;

namespace Chroma.Server.Tests.Indexing;

/// <summary>A build whose graph reads the exact index's vectors in place instead of holding them twice.</summary>
[TestFixture]
public sealed class AdaptiveVectorIndexAdoptionTests : IndexBuildThreadsFixture
{
    // 13,000 rows: the exact index keeps rows 0-8,191 in blocks of their own, 8,192-12,287 in a slab, and the rest in a
    // slab only partly filled; so a build adopts one slab (rows 8,192-12,287) and copies the others.
    private const int Dimension = 16;
    private const int Rows = 13_000;

    // Steps of 1,000 rows: several steps, each reserving its in-order rows before linking them.
    private IndexBuildSettings Steps => Settings with { StepSize = 1_000 };

    [TestCase(nameof(HnswMetric.L2))]
    [TestCase(nameof(HnswMetric.Cosine))]
    public async Task Build_RowsInStoreOrder_GraphReadsTheExactIndexBlocksAndFindsEveryVector(string metricName)
    {
        // Arrange
        var metric = Enum.Parse<HnswMetric>(metricName);
        using var index = new AdaptiveVectorIndex(Dimension, threshold: Rows, Steps, metric: metric);
        var vectors = TestVectors.Clustered(Rows, Dimension, clusters: 6, seed: 51);
        Fill(index, vectors);

        // Act
        Assert.That(index.StartBuildIfLarge(), Is.True);
        await index.BuildCompletion;

        // Assert: the whole slab is adopted; adopted and copied rows are found alike, at distance 0.
        Assert.That(index.AdoptedVectors, Is.EqualTo(4_096));
        Assert.That(index.Hnsw, Is.Not.Null, "the graph took over");
        foreach (var sequence in new[] { 0, 1_023, 1_024, 4_095, 4_096, 8_191, 8_192, 12_287, 12_288, Rows - 1 })
        {
            var nearest = index.Search(vectors[sequence], 1, options: new NearestSearchOptions(Breadth: 200)).Single();
            Assert.That(nearest.Sequence, Is.EqualTo(sequence), $"sequence {sequence}");
            Assert.That(nearest.Distance, Is.EqualTo(0f).Within(1e-5f), $"distance of sequence {sequence}");
        }
    }

    [Test, CancelAfter(60_000)]
    public async Task BuildCompletion_AdoptedBlocks_OutliveTheExactIndexAsTheGraphs()
    {
        // Arrange: after the take-over the exact index is garbage, its own blocks too, but the slab the graph adopted is
        // the graph's vectors now and must stay (weak references, taken where no local keeps them).
        using var index = new AdaptiveVectorIndex(Dimension, threshold: Rows, Steps);
        var vectors = TestVectors.Uniform(Rows, Dimension, seed: 52);
        Fill(index, vectors);
        var (exact, firstBlock, slab) = WeakExactIndex(index);

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
            Assert.That(exact.IsAlive, Is.False, "the exact index is unreachable after the take-over");
            Assert.That(firstBlock.IsAlive, Is.False, "its first block (rows the graph copied) is unreachable");
            Assert.That(slab.IsAlive, Is.True, "the slab of rows 8,192-12,287 holds the graph's vectors of those rows");
            Assert.That(index.Search(vectors[5], 1).Single().Sequence, Is.EqualTo(5));
        });
    }

    [Test, CancelAfter(60_000)]
    public async Task Build_ARemovalMovedARow_CopiesEveryVectorAndStillFindsThem()
    {
        // Arrange: removing sequence 5 moves the last row into its slot, so rows are no longer in store order.
        using var index = new AdaptiveVectorIndex(Dimension, threshold: Rows - 1, Steps);
        var vectors = TestVectors.Uniform(Rows, Dimension, seed: 53);
        Fill(index, vectors);
        index.Remove(5);

        // Act
        Assert.That(index.StartBuildIfLarge(), Is.True);
        await index.BuildCompletion;

        // Assert
        Assert.That(index.AdoptedVectors, Is.Zero);
        Assert.That(index.Search(vectors[Rows - 1], 1).Single().Sequence, Is.EqualTo(Rows - 1));
        Assert.That(index.Search(vectors[5], 1).Single().Sequence, Is.Not.EqualTo(5));
    }

    [Test, CancelAfter(60_000)]
    public async Task Build_ChangesToAdoptedRowsDuringIt_AnswerWithTheNewVectorsAfterTheTakeOver()
    {
        // Arrange: a step of 64 rows, so the changes below land while the graph links the adopted rows; each one writes
        // to a block the snapshot holds, which the exact index must copy first, and is replayed onto the graph.
        using var index = new AdaptiveVectorIndex(Dimension, threshold: Rows, Settings with { StepSize = 64 });
        var vectors = TestVectors.Uniform(Rows, Dimension, seed: 54);
        Fill(index, vectors);
        var moved = Enumerable.Repeat(50f, Dimension).ToArray();

        // Act
        Assert.That(index.StartBuildIfLarge(), Is.True);
        index.Add(9_010, moved, "training");
        index.Remove(9_020);
        index.Add(Rows, vectors[9_020], "training");
        await index.BuildCompletion;

        // Assert
        Assert.Multiple(() =>
        {
            Assert.That(index.AdoptedVectors, Is.EqualTo(4_096));
            Assert.That(index.Search(moved, 1).Single().Sequence, Is.EqualTo(9_010), "the overwritten vector");
            Assert.That(index.Search(vectors[9_010], 1).Single().Sequence, Is.Not.EqualTo(9_010), "its old vector is gone");
            Assert.That(index.Search(vectors[9_020], 1).Single().Sequence, Is.EqualTo(Rows), "9,020 removed, its vector added anew");
            Assert.That(index.Search(vectors[9_030], 1).Single().Sequence, Is.EqualTo(9_030), "an untouched row of the same block");
            Assert.That(index.Count, Is.EqualTo(Rows));
        });
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static (WeakReference Exact, WeakReference FirstBlock, WeakReference Slab) WeakExactIndex(AdaptiveVectorIndex index)
    {
        var (exact, chunks) = AdaptiveIndexInternals.ExactIndex(index);
        var slabChunk = VectorBlocks.SlabsFrom / VectorBlocks.RowsFor(Dimension);
        return (new WeakReference(exact), new WeakReference(chunks[0]), new WeakReference(chunks[slabChunk]));
    }

    private static void Fill(AdaptiveVectorIndex index, float[][] vectors) => AdaptiveIndexInternals.Fill(index, vectors);
}
