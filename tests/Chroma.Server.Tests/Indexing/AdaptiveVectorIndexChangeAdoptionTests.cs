using Chroma.Server.Indexing;
using Chroma.Server.Indexing.Internal;
using Chroma.Server.Tests.Indexing.Hnsw;

namespace Chroma.Server.Tests.Indexing;

/// <summary>
/// A build that starts small while records keep arriving (a bulk load): whole slabs of the rows that arrive during it
/// are read by the graph in place, like the snapshot's, instead of being held twice until the take-over.
/// </summary>
[TestFixture]
public sealed class AdaptiveVectorIndexChangeAdoptionTests : IndexBuildThreadsFixture
{
    // A snapshot of 5,000 rows (no slab: slabs start at row 8,192), then 11,384 rows while the build waits: rows
    // 5,000-8,191 are copied up to the first slab, slabs 2 and 3 (rows 8,192-16,383) are whole. Steps of 1,024 rows:
    // the snapshot's are steps 1-5, the copied rows 6-9, slab 2 steps 10-13, slab 3 steps 14-17.
    private const int Dimension = 16;
    private const int Threshold = 5_000;
    private const int Rows = 16_384;

    [Test, CancelAfter(120_000)]
    public async Task Build_RowsArriveInStoreOrderDuringIt_WholeSlabsAreAdoptedAndEveryVectorIsFound()
    {
        // Arrange / Act
        var vectors = TestVectors.Uniform(Rows, Dimension, seed: 61);
        using var index = await BuildWhileRowsArriveAsync(vectors, atStep: (_, _) => { });

        // Assert: both slabs read in place; every record is its own nearest at distance 0 in an exact scan of the graph.
        Assert.That(index.AdoptedVectors, Is.EqualTo(2 * 4_096));
        AssertEveryVectorFound(index, vectors, removed: []);
    }

    [Test, CancelAfter(120_000)]
    public async Task Build_RemovalWhileASlabIsLinked_LaterRowsAreCopied()
    {
        // Arrange / Act: on step 11 (slab 2 being linked) a record of that slab and one of the snapshot are removed. The
        // exact index moves its last row into each gap, so rows no longer follow the log: slab 3 is copied.
        var vectors = TestVectors.Uniform(Rows, Dimension, seed: 62);
        using var index = await BuildWhileRowsArriveAsync(vectors, atStep: (index, step) =>
        {
            if (step == 11)
            {
                index.Remove(9_000);
                index.Remove(30);
            }
        });

        // Assert
        Assert.That(index.AdoptedVectors, Is.EqualTo(4_096), "slab 2 only");
        AssertEveryVectorFound(index, vectors, removed: [9_000, 30]);
    }

    [Test, CancelAfter(120_000)]
    public async Task Build_RowOfAnAdoptedSlabReusedAfterARemoval_TheGraphKeepsTheVectorItAdopted()
    {
        // Arrange / Act: after the last step, the removal of record 9,000 moves the last row (record 16,383, adopted in
        // slab 3) into row 9,000, and the next record is appended into the freed last row. The exact index must copy
        // those blocks before it writes them, or the graph's node of record 16,383 would read the new record's vector.
        var vectors = TestVectors.Uniform(Rows + 1, Dimension, seed: 63);
        using var index = await BuildWhileRowsArriveAsync(vectors[..Rows], atStep: (index, step) =>
        {
            if (step == 17)
            {
                index.Remove(9_000);
                index.Add(Rows, vectors[Rows], "production");
            }
        });

        // Assert
        Assert.That(index.AdoptedVectors, Is.EqualTo(2 * 4_096));
        AssertEveryVectorFound(index, vectors, removed: [9_000]);
    }

    [Test, CancelAfter(120_000)]
    public async Task Build_RowsArriveInSharesOfOneStep_ACheckpointAfterEveryStepOnceTheIntervalPassed()
    {
        // Arrange: a clock that passes the checkpoint interval at every step; the records that arrive during the build
        // are applied in shares (one step or a few each, as in a bulk load), not in the steps of the snapshot's pass.
        var clock = new Microsoft.Extensions.Time.Testing.FakeTimeProvider();
        var steps = 0;
        var checkpoints = new List<int>();
        var vectors = TestVectors.Uniform(Rows, Dimension, seed: 64);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var settings = Settings with
        {
            StepSize = 1_024,
            TimeProvider = clock,
            CheckpointInterval = TimeSpan.FromSeconds(30),
            SaveCheckpoint = graph => checkpoints.Add(graph.Count),
            OnStep = async (_, token) =>
            {
                await release.Task.WaitAsync(token);
                steps++;
                clock.Advance(TimeSpan.FromSeconds(31));
            },
        };
        using var index = new AdaptiveVectorIndex(Dimension, Threshold, settings);
        AdaptiveIndexInternals.Fill(index, vectors[..Threshold]);
        Assert.That(index.StartBuildIfLarge(), Is.True);
        for (var i = Threshold; i < vectors.Length; i++)
        {
            index.Add(i, vectors[i], "training");
        }

        // Act
        release.SetResult();
        await index.BuildCompletion;

        // Assert: one checkpoint per step, each holding more of the graph than the one before.
        Assert.That(index.Hnsw!.Count, Is.EqualTo(Rows));
        Assert.That(checkpoints, Has.Count.EqualTo(steps));
        Assert.That(checkpoints, Is.Ordered.Ascending.And.Unique);
        Assert.That(checkpoints[^1], Is.EqualTo(Rows));
    }

    /// <summary>
    /// Builds from the first <see cref="Threshold"/> vectors while the rest arrive (the build waits after its first step
    /// until they have); <paramref name="atStep"/> runs after every step with the step's number.
    /// </summary>
    private async Task<AdaptiveVectorIndex> BuildWhileRowsArriveAsync(float[][] vectors, Action<AdaptiveVectorIndex, int> atStep)
    {
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var steps = 0;
        AdaptiveVectorIndex? index = null;
        var settings = Settings with
        {
            StepSize = 1_024,
            OnStep = async (_, token) =>
            {
                await release.Task.WaitAsync(token);
                atStep(index!, ++steps);
            },
        };
        index = new AdaptiveVectorIndex(Dimension, Threshold, settings);
        AdaptiveIndexInternals.Fill(index, vectors[..Threshold]);
        Assert.That(index.StartBuildIfLarge(), Is.True);
        for (var i = Threshold; i < vectors.Length; i++)
        {
            index.Add(i, vectors[i], i % 3 == 0 ? "production" : "training");
        }

        release.SetResult();
        await index.BuildCompletion;
        return index;
    }

    private static void AssertEveryVectorFound(AdaptiveVectorIndex index, float[][] vectors, HashSet<long> removed)
    {
        var graph = index.Hnsw;
        Assert.That(graph, Is.Not.Null, "the graph took over");
        Assert.That(graph!.Count, Is.EqualTo(vectors.Length - removed.Count));
        var exact = new NearestSearchOptions(Exact: true);
        var wrong = new List<string>();
        // Every 7th record and each slab's edges (an exact scan per record would take most of the test's time).
        int[] edges = [0, 4_095, 4_096, 4_999, 5_000, 8_191, 8_192, 12_287, 12_288, vectors.Length - 2, vectors.Length - 1];
        foreach (var i in Enumerable.Range(0, vectors.Length).Where(i => i % 7 == 0).Concat(edges).Concat(removed.Select(r => (int)r)))
        {
            var found = graph.Search(vectors[i], 1, options: exact).Single();
            if (removed.Contains(i) ? found.Sequence == i : found != new VectorNeighbor(i, 0f))
            {
                wrong.Add($"{i}: {found}");
            }
        }

        Assert.That(wrong, Is.Empty, "records not found at distance 0 (or removed records found)");
    }
}
