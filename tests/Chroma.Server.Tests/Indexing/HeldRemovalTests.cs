using Chroma.Server.Indexing;
using Chroma.Server.Indexing.Internal;

namespace Chroma.Server.Tests.Indexing;

/// <summary>
/// Deletions read while a graph's file is written are held (the write holds the graph's writer gate): searches leave the
/// held vectors out at once, deeper when they fill the nearest, and the removals reach the graph once applied. Real
/// graph; records 0-999 at [i, 0, 0, 0], so the nearest of a query are known.
/// </summary>
[TestFixture]
public sealed class HeldRemovalTests : IndexBuildThreadsFixture
{
    private const int Dimension = 4;
    private const int Records = 1_000;

    [Test]
    public void Search_HeldRemovalsAreTheNearest_SearchesDeeperAndReturnsTheNearestLiveOnes()
    {
        // Arrange: records 100-199 held, record 1,000 staged and removed with them (it leaves the tail at once).
        using var index = GraphOfALine();
        index.Stage(Records, Vector(Records), "production");

        // Act
        var held = index.TryHoldRemovals([.. Enumerable.Range(100, 100).Select(i => (long)i), Records], limit: 1_000);
        var nearest = index.Search(Vector(150), 5);
        var exact = index.Search(Vector(150), 5, options: new NearestSearchOptions(0, Exact: true));

        // Assert
        long[] expected = [200, 99, 201, 98, 202]; // at 50, 51, 51, 52 and 52 from record 150
        Assert.Multiple(() =>
        {
            Assert.That(held, Is.True);
            Assert.That(index.HeldRemovalCount, Is.EqualTo(100), "the staged record is removed, not held");
            Assert.That(index.PendingCount, Is.Zero);
            Assert.That(index.Hnsw!.Graph.Count, Is.EqualTo(Records), "held removals stay in the graph");
            Assert.That(index.Count, Is.EqualTo(Records - 100));
            Assert.That(nearest.Select(n => n.Sequence), Is.EquivalentTo(expected));
            Assert.That(exact.Select(n => n.Sequence), Is.EquivalentTo(expected));
        });
    }

    [Test]
    public void ApplyHeldRemovals_AfterTheWrite_RemovedFromTheGraphAndNoLongerHeld()
    {
        // Arrange
        using var index = GraphOfALine();
        index.TryHoldRemovals([150, 151], limit: 1_000);

        // Act
        var applied = index.ApplyHeldRemovals();

        // Assert
        Assert.Multiple(() =>
        {
            Assert.That(applied, Is.EqualTo(2));
            Assert.That(index.HeldRemovalCount, Is.Zero);
            Assert.That(index.Hnsw!.Graph.Contains(150), Is.False);
            Assert.That(index.Hnsw!.Graph.Count, Is.EqualTo(Records - 2));
            Assert.That(index.Count, Is.EqualTo(Records - 2));
            Assert.That(index.Search(Vector(151), 1).Single().Sequence, Is.EqualTo(152), "151 and 150 are gone");
            Assert.That(index.ApplyHeldRemovals(), Is.Zero, "nothing is held any more");
        });
    }

    [Test]
    public void TryHoldRemovals_MoreThanTheLimit_HoldsNothing()
    {
        // Arrange: 30 already held, a limit of 50.
        using var index = GraphOfALine();
        index.TryHoldRemovals([.. Enumerable.Range(0, 30).Select(i => (long)i)], limit: 50);

        // Act
        var held = index.TryHoldRemovals([.. Enumerable.Range(30, 21).Select(i => (long)i)], limit: 50);

        // Assert
        Assert.Multiple(() =>
        {
            Assert.That(held, Is.False);
            Assert.That(index.HeldRemovalCount, Is.EqualTo(30));
            Assert.That(index.Search(Vector(40), 1).Single().Sequence, Is.EqualTo(40), "not held, so still found");
        });
    }

    [Test]
    public void With_ManySmallPages_KeepsEverySequenceAcrossMerges()
    {
        // Arrange: deletions arriving one at a time, more pages than a set keeps parts.
        HeldRemovals? held = null;

        // Act
        for (var i = 0; i < (3 * HeldRemovals.MaxParts) + 5; i++)
        {
            held = HeldRemovals.With(held, [i * 10L]);
        }

        // Assert
        var expected = Enumerable.Range(0, (3 * HeldRemovals.MaxParts) + 5).Select(i => i * 10L).ToArray();
        Assert.Multiple(() =>
        {
            Assert.That(held!.Count, Is.EqualTo(expected.Length));
            Assert.That(held.Sequences, Is.EquivalentTo(expected));
            Assert.That(expected.All(held.Contains), Is.True);
            Assert.That(held.Contains(5), Is.False);
        });
    }

    private static float[] Vector(int i) => [i, 0, 0, 0];

    private AdaptiveVectorIndex GraphOfALine()
    {
        var graph = new HnswVectorIndex(Dimension);
        for (var i = 0; i < Records; i++)
        {
            graph.Add(i, Vector(i), "production");
        }

        return new AdaptiveVectorIndex(graph, Settings);
    }
}
