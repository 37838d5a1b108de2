using Chroma.Server.Indexing;
using Chroma.Server.Indexing.Hnsw;
using Chroma.Server.Tests.Indexing.Hnsw;

namespace Chroma.Server.Tests.Indexing;

/// <summary>
/// A build whose records are mostly deleted under it (probe U, U8: retention deleting most of a million a minute into a
/// first build) starts again from the live records instead of linking the deleted ones and compacting after.
/// </summary>
[TestFixture]
public sealed class IndexBuildRestartTests : IndexBuildThreadsFixture
{
    private const int Dimension = 8;
    private const int Records = 3_000;

    [Test, CancelAfter(60_000)]
    public async Task BuildCompletion_MostRecordsDeletedDuringTheBuild_BuildsAgainFromTheLiveOnes(CancellationToken cancellationToken)
    {
        // Arrange: the build waits after its first step while 2,000 of its 3,000 records are deleted.
        var (index, restarts, release) = HeldBuild();
        using var owned = index;
        Assert.That(index.StartBuildIfLarge(), Is.True);
        var firstBuild = index.BuildCompletion;
        var kept = DeleteAllBut(index, keepEvery: 3);

        // Act
        release.SetResult();
        await firstBuild.WaitAsync(cancellationToken);

        // Assert: the build that took over holds the 1,000 live records and no tombstone.
        var graph = index.Hnsw;
        Assert.Multiple(() =>
        {
            Assert.That(restarts, Is.EqualTo(new[] { (2_000, 3_000, false) }), "one restart, told how much was deleted");
            Assert.That(graph, Is.Not.Null, "the first build's completion waits for the one that replaced it");
            Assert.That(graph!.Graph.DeletedCount, Is.Zero, "no deleted vector was linked");
            Assert.That(graph.Graph.NodeCount, Is.EqualTo(kept.Count));
            Assert.That(graph.Graph.LiveKeys().Order(), Is.EqualTo(kept));
            Assert.That(index.Count, Is.EqualTo(kept.Count));
        });
    }

    [Test, CancelAfter(60_000)]
    public async Task BuildCompletion_FewerDeletedThanLive_BuildGoesOnAndDropsThemAtTheTakeOver(CancellationToken cancellationToken)
    {
        // Arrange: 1,000 of 3,000 deleted, fewer than the 2,000 live.
        var (index, restarts, release) = HeldBuild();
        using var owned = index;
        Assert.That(index.StartBuildIfLarge(), Is.True);
        var kept = DeleteAllBut(index, keepEvery: 3, keepAlso: 1);

        // Act
        release.SetResult();
        await index.BuildCompletion.WaitAsync(cancellationToken);

        // Assert
        var graph = index.Hnsw!;
        Assert.Multiple(() =>
        {
            Assert.That(restarts, Is.Empty);
            Assert.That(graph.Graph.LiveKeys().Order(), Is.EqualTo(kept));
            Assert.That(graph.Graph.DeletedCount, Is.EqualTo(1_000), "deleted after they were snapshotted: tombstones");
        });
    }

    [Test, CancelAfter(60_000)]
    public async Task BuildCompletion_CheckpointMostlyDeletedSince_BuildsFromAnEmptyGraph(CancellationToken cancellationToken)
    {
        // Arrange: a checkpoint holding 3,000 records, of which only every third is still stored.
        var vectors = TestVectors.Uniform(Records, Dimension, seed: 31);
        var checkpoint = new HnswVectorIndex(Dimension, HnswMetric.L2);
        for (var i = 0; i < Records; i++)
        {
            checkpoint.Add(i, vectors[i], "training");
        }

        var restarts = new List<(int, int, bool)>();
        using var index = new AdaptiveVectorIndex(Dimension, threshold: 500, Settings with { StepSize = 256, BuildRestarted = (d, t, c) => restarts.Add((d, t, c)) }, checkpoint);
        var kept = new List<long>();
        for (var i = 0; i < Records; i += 3)
        {
            index.Add(i, vectors[i], "training");
            kept.Add(i);
        }

        // Act
        Assert.That(index.StartBuildIfLarge(), Is.True);
        await index.BuildCompletion.WaitAsync(cancellationToken);

        // Assert
        var graph = index.Hnsw!;
        Assert.Multiple(() =>
        {
            Assert.That(restarts, Is.EqualTo(new[] { (2_000, 3_000, true) }));
            Assert.That(index.ResumedVectors, Is.Zero, "nothing of the checkpoint was kept");
            Assert.That(graph.Graph.DeletedCount, Is.Zero);
            Assert.That(graph.Graph.LiveKeys().Order(), Is.EqualTo(kept));
        });
    }

    /// <summary>An index of 3,000 records whose build waits after its first step until the returned source is set.</summary>
    private (AdaptiveVectorIndex Index, List<(int, int, bool)> Restarts, TaskCompletionSource Release) HeldBuild()
    {
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var restarts = new List<(int, int, bool)>();
        var settings = Settings with
        {
            StepSize = 256,
            OnStep = async (_, token) => await release.Task.WaitAsync(token),
            BuildRestarted = (deleted, total, fromCheckpoint) => restarts.Add((deleted, total, fromCheckpoint)),
        };
        var index = new AdaptiveVectorIndex(Dimension, threshold: 500, settings);
        AdaptiveIndexInternals.Fill(index, TestVectors.Uniform(Records, Dimension, seed: 30));
        return (index, restarts, release);
    }

    /// <summary>Deletes every record whose sequence is not a multiple of <paramref name="keepEvery"/> (or, with <paramref name="keepAlso"/>, that residue); returns the kept ones.</summary>
    private static List<long> DeleteAllBut(AdaptiveVectorIndex index, int keepEvery, int? keepAlso = null)
    {
        var kept = new List<long>();
        for (var i = 0; i < Records; i++)
        {
            if (i % keepEvery == 0 || i % keepEvery == keepAlso)
            {
                kept.Add(i);
            }
            else
            {
                Assert.That(index.Remove(i), Is.True);
            }
        }

        return kept;
    }
}
