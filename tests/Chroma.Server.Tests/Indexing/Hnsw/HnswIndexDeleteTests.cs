using NUnit.Framework;
using Chroma.Server.Indexing.Hnsw;

namespace Chroma.Server.Tests.Indexing.Hnsw;

[TestFixture]
public sealed class HnswIndexDeleteTests
{
    private const int K = 10;

    [Test]
    public void Search_AfterRemovingHalf_NeverReturnsRemovedKeys()
    {
        // Arrange
        float[][] vectors = TestVectors.Clustered(2000, 16, clusters: 8, seed: 21);
        using HnswIndex index = TestVectors.Build(vectors, HnswMetric.L2);
        var removed = Enumerable.Range(0, vectors.Length).Where(i => i % 2 == 0).Select(i => (long)i).ToHashSet();

        // Act
        foreach (long key in removed)
        {
            index.Remove(key);
        }

        var results = vectors.Take(200).Select(v => index.Search(v, K, ef: 64)).ToList();

        // Assert
        Assert.That(results.SelectMany(r => r).Any(r => removed.Contains(r.Key)), Is.False);
        Assert.That(results.All(r => r.Length == K), Is.True);
        Assert.That((index.Count, index.DeletedCount), Is.EqualTo((1000, 1000)));
    }

    [Test]
    public void Remove_UnknownOrAlreadyRemovedKey_ReturnsFalse()
    {
        // Arrange
        using HnswIndex index = TestVectors.Build(TestVectors.Uniform(10, 4, seed: 22), HnswMetric.L2);
        index.Remove(3);

        // Act
        bool again = index.Remove(3);
        bool unknown = index.Remove(99);

        // Assert
        Assert.That((again, unknown, index.Contains(3)), Is.EqualTo((false, false, false)));
    }

    [Test]
    public void Contains_AfterManyAddsRemovesAndReAdds_TracksEveryKey()
    {
        // Arrange: sparse 64-bit keys, enough churn to grow and clean the key table several times.
        var random = new Random(25);
        long[] keys = Enumerable.Range(0, 5000).Select(_ => random.NextInt64(long.MinValue, long.MaxValue)).Distinct().ToArray();
        using var index = new HnswIndex(new HnswOptions { Dimension = 2, M = 4, EfConstruction = 8 });
        foreach (long key in keys)
        {
            index.Add(key, [random.NextSingle(), random.NextSingle()]);
        }

        // Act
        for (int i = 0; i < keys.Length; i += 2)
        {
            index.Remove(keys[i]);
        }

        for (int i = 0; i < keys.Length; i += 4)
        {
            index.Add(keys[i], [random.NextSingle(), random.NextSingle()]);
        }

        // Assert
        bool[] expected = keys.Select((_, i) => i % 2 == 1 || i % 4 == 0).ToArray();
        Assert.That(keys.Select(index.Contains), Is.EqualTo(expected));
        Assert.That(index.Count, Is.EqualTo(expected.Count(e => e)));
    }

    [Test]
    public void Add_KeyRemovedEarlier_StoresTheNewVector()
    {
        // Arrange
        using HnswIndex index = TestVectors.Build(TestVectors.Uniform(50, 4, seed: 23), HnswMetric.L2);
        index.Remove(7);

        // Act
        index.Add(7, [9f, 9f, 9f, 9f]);

        // Assert
        Assert.That(index.Search([9f, 9f, 9f, 9f], 1)[0], Is.EqualTo(new HnswSearchResult(7, 0f)));
    }

    [Test]
    public void Compact_AfterRemovals_DropsTombstonesAndKeepsResults()
    {
        // Arrange
        float[][] vectors = TestVectors.Clustered(2000, 16, clusters: 8, seed: 24);
        using HnswIndex index = TestVectors.Build(vectors, HnswMetric.Cosine, i => i % 2);
        for (int i = 0; i < vectors.Length; i += 3)
        {
            index.Remove(i);
        }

        float[][] queries = TestVectors.Clustered(40, 16, clusters: 8, seed: 24 + 1000);
        var exactBefore = queries.Select(q => index.SearchExactly(q, K).Select(r => r.Key).ToArray()).ToList();
        var taggedBefore = queries.Select(q => index.SearchExactly(q, K, tag: 1).Select(r => r.Key).ToArray()).ToList();
        int live = index.Count;

        // Act
        index.Compact();
        var after = queries.Select(q => index.Search(q, K, ef: 100)).ToList();
        var taggedAfter = queries.Select(q => index.Search(q, K, tag: 1, ef: 100)).ToList();

        // Assert
        Assert.That((index.Count, index.DeletedCount), Is.EqualTo((live, 0)));
        Assert.That(TestVectors.Recall(exactBefore, after), Is.GreaterThanOrEqualTo(0.95));
        Assert.That(TestVectors.Recall(taggedBefore, taggedAfter), Is.GreaterThanOrEqualTo(0.95));
        Assert.That(index.Contains(0), Is.False);
        Assert.That(index.Contains(1), Is.True);
    }
}
