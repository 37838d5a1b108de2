using Chroma.Server.Indexing;
using Chroma.Server.Indexing.Hnsw;

namespace Chroma.Server.Tests.Indexing;

/// <summary>
/// Exact searches keep, among neighbours tied at the k-th distance, those stored first (lowest sequence), as the
/// recommendation engine's training-neighbour scan does, so a reason's neighbours can be reproduced with an exact
/// FindNearest even on data with equal distances (integer counts, sparse vectors).
/// </summary>
[TestFixture]
public sealed class ExactSearchTieTests
{
    private const int Dimension = 8;

    [Test]
    public void BruteForceSearch_TiesAfterARemovalMovedARow_KeepsTheLowestSequences()
    {
        // Arrange: six vectors at distance 1 from the origin; removing sequence 10 moves the last row (60) into its
        // slot, so the scan meets 60 first.
        var index = new BruteForceVectorIndex(Dimension);
        for (var i = 0; i < 6; i++)
        {
            index.Add(10 * (i + 1), Axis(i), "training");
        }

        index.Remove(10);

        // Act
        var found = index.Search(new float[Dimension], 3, "training");

        // Assert
        Assert.Multiple(() =>
        {
            Assert.That(found.Select(n => n.Sequence), Is.EqualTo(new long[] { 20, 30, 40 }));
            Assert.That(found.Select(n => n.Distance), Is.All.EqualTo(1f));
        });
    }

    [Test]
    public void BruteForceSearch_NearerVectorAmongTies_ComesFirstThenTiesBySequence()
    {
        var index = new BruteForceVectorIndex(Dimension);
        for (var i = 0; i < 5; i++)
        {
            index.Add(50 - (10 * i), Axis(i), "training");
        }

        var near = Axis(5);
        near[5] = 0.5f;
        index.Add(99, near, "training");

        var found = index.Search(new float[Dimension], 3, "training");

        Assert.That(found.Select(n => n.Sequence), Is.EqualTo(new long[] { 99, 10, 20 }));
    }

    [Test]
    public void HnswSearchExactly_TiesInsertedInDescendingKeyOrder_KeepsTheLowestKeysInOrder()
    {
        // Arrange: keys added 50, 40, ..., 10, all at distance 1 from the query: node order is the reverse of key order.
        using var index = new HnswIndex(new HnswOptions { Dimension = Dimension });
        for (var i = 0; i < 5; i++)
        {
            index.Add(50 - (10 * i), Axis(i));
        }

        // Act
        var found = index.SearchExactly(new float[Dimension], 2);

        // Assert
        Assert.That(found.Select(r => r.Key), Is.EqualTo(new long[] { 10, 20 }));
    }

    [Test]
    public void HnswFilteredSearch_SmallTaggedSubsetWithTies_KeepsTheLowestKeys()
    {
        // Arrange: a tagged subset small enough to be scanned exactly, among untagged vectors nearer the query.
        using var index = new HnswIndex(new HnswOptions { Dimension = Dimension });
        for (var i = 0; i < 5; i++)
        {
            index.Add(500 - (100 * i), Axis(i), tag: 1);
        }

        for (var i = 0; i < 50; i++)
        {
            var closer = Axis(i % Dimension);
            closer[i % Dimension] = 0.1f * ((i / Dimension) + 1);
            index.Add(1000 + i, closer, tag: 0);
        }

        // Act
        var found = index.Search(new float[Dimension], 3, tag: 1);

        // Assert
        Assert.That(found.Select(r => r.Key), Is.EqualTo(new long[] { 100, 200, 300 }));
    }

    private static float[] Axis(int i)
    {
        var vector = new float[Dimension];
        vector[i] = 1f;
        return vector;
    }
}
