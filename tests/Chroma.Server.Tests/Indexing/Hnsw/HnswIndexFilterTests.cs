using NUnit.Framework;
using Chroma.Server.Indexing.Hnsw;

namespace Chroma.Server.Tests.Indexing.Hnsw;

[TestFixture]
public sealed class HnswIndexFilterTests
{
    private const int K = 10;

    // 1 in 2 (graph search with a wider beam) and 1 in 40 (small subset: exact scan of the subset).
    [TestCase(2)]
    [TestCase(40)]
    public void Search_WithTag_ReturnsOnlyThatTagWithHighRecall(int oneIn)
    {
        // Arrange
        float[][] vectors = TestVectors.Clustered(4000, 16, clusters: 10, seed: 11);
        float[][] queries = TestVectors.Uniform(40, 16, seed: 12).Select(q => q.Select(x => x * 5).ToArray()).ToArray();
        int TagOf(int i) => i % oneIn == 0 ? 1 : 0;
        using HnswIndex index = TestVectors.Build(vectors, HnswMetric.L2, TagOf, exactSearchMaxCount: 100);
        int[] subset = Enumerable.Range(0, vectors.Length).Where(i => TagOf(i) == 1).ToArray();

        // Act
        var actual = queries.Select(q => index.Search(q, K, tag: 1, ef: 64)).ToList();

        // Assert
        Assert.That(actual.SelectMany(r => r).All(r => TagOf((int)r.Key) == 1), Is.True);
        Assert.That(actual.All(r => r.Length == K), Is.True);
        var expected = queries.Select(q => TestVectors.ExactNearest(vectors, subset, q, K, HnswMetric.L2)).ToList();
        Assert.That(TestVectors.Recall(expected, actual), Is.GreaterThanOrEqualTo(0.95));
    }

    [Test]
    public void Search_TagWithNoVectors_ReturnsNothing()
    {
        // Arrange
        using HnswIndex index = TestVectors.Build(TestVectors.Uniform(100, 4, seed: 13), HnswMetric.L2);

        // Act
        HnswSearchResult[] results = index.Search([0f, 0f, 0f, 0f], K, tag: 7);

        // Assert
        Assert.That(results, Is.Empty);
    }

    [Test]
    public void CountWithTag_AfterAddsAndRemoves_CountsLiveVectors()
    {
        // Arrange
        using HnswIndex index = TestVectors.Build(TestVectors.Uniform(100, 4, seed: 14), HnswMetric.L2, i => i % 3);

        // Act
        index.Remove(0);
        index.Remove(3);

        // Assert
        Assert.That((index.CountWithTag(0), index.CountWithTag(1), index.CountWithTag(2)), Is.EqualTo((32, 33, 33)));
    }

    // The probe's case: 8% of 100,000 records of 384 floats, in one corner of the data (3.1 M floats: scanned).
    [TestCase(8_000, 100_000, 384, true)]
    // Small shares and small subsets, as before.
    [TestCase(4_000, 100_000, 1_536, true)]
    [TestCase(2_048, 2_000_000, 1_536, true)]
    // Within 4 Mi floats whatever the share: 32,768 of 128, 2,730 of 1,536.
    [TestCase(32_768, 40_000, 128, true)]
    [TestCase(2_730, 10_000, 1_536, true)]
    // Beyond it, and above 5% and 2,048 vectors: walked.
    [TestCase(32_769, 40_000, 128, false)]
    [TestCase(12_000, 100_000, 384, false)]
    [TestCase(2_731, 10_000, 1_536, false)]
    public void ScansSubset_SubsetShareAndWidth_ScansWhenSmallOrCheap(int subset, int live, int dimension, bool scanned)
    {
        // Arrange
        var options = new HnswOptions { Dimension = dimension };

        // Act
        var scans = Chroma.Server.Indexing.Hnsw.Internal.HnswGraph.ScansSubset(subset, live, dimension, options);

        // Assert
        Assert.That(scans, Is.EqualTo(scanned));
    }
}
