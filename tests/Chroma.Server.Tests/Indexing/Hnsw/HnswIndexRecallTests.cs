using NUnit.Framework;
using Chroma.Server.Indexing.Hnsw;

namespace Chroma.Server.Tests.Indexing.Hnsw;

[TestFixture]
public sealed class HnswIndexRecallTests
{
    private const int K = 10;

    [TestCase(nameof(HnswMetric.L2))]
    [TestCase(nameof(HnswMetric.Cosine))]
    [TestCase(nameof(HnswMetric.InnerProduct))]
    public void Search_UniformRandomData_RecallAbove95Percent(string metricName)
    {
        // Arrange (the metric comes by name: HnswMetric is internal, and a public test method cannot take it)
        var metric = Enum.Parse<HnswMetric>(metricName);
        float[][] vectors = TestVectors.Uniform(3000, 24, seed: 1);
        float[][] queries = TestVectors.Uniform(60, 24, seed: 2);
        using HnswIndex index = TestVectors.Build(vectors, metric);

        // Act
        var actual = queries.Select(q => index.Search(q, K, ef: 100)).ToList();

        // Assert
        var expected = queries.Select(q => TestVectors.ExactNearest(vectors, Enumerable.Range(0, vectors.Length), q, K, metric)).ToList();
        Assert.That(TestVectors.Recall(expected, actual), Is.GreaterThanOrEqualTo(0.95));
    }

    [TestCase(nameof(HnswMetric.L2))]
    [TestCase(nameof(HnswMetric.Cosine))]
    [TestCase(nameof(HnswMetric.InnerProduct))]
    public void Search_ClusteredData_RecallAbove95Percent(string metricName)
    {
        // Arrange (the metric comes by name: HnswMetric is internal, and a public test method cannot take it)
        var metric = Enum.Parse<HnswMetric>(metricName);

        // Inner product is not a metric: with free norms a few long vectors win every query and no graph index
        // (hnswlib included) finds them reliably, so for it the clustered vectors get norms near 1, as embeddings have.
        float[][] all = TestVectors.Clustered(3060, 32, clusters: 12, seed: 3);
        float[][] vectors = all[..3000];
        float[][] queries = all[3000..];
        if (metric == HnswMetric.InnerProduct)
        {
            vectors = TestVectors.NearUnitNorm(vectors, seed: 5);
            queries = TestVectors.NearUnitNorm(queries, seed: 6);
        }

        using HnswIndex index = TestVectors.Build(vectors, metric);

        // Act
        var actual = queries.Select(q => index.Search(q, K, ef: 200)).ToList();

        // Assert
        var expected = queries.Select(q => TestVectors.ExactNearest(vectors, Enumerable.Range(0, vectors.Length), q, K, metric)).ToList();
        Assert.That(TestVectors.Recall(expected, actual), Is.GreaterThanOrEqualTo(0.95));
    }

    [Test]
    public void Search_Results_AreAscendingAndMatchExactDistances()
    {
        // Arrange
        float[][] vectors = TestVectors.Uniform(500, 8, seed: 4);
        using HnswIndex index = TestVectors.Build(vectors, HnswMetric.L2);
        float[] query = vectors[17];

        // Act
        HnswSearchResult[] results = index.Search(query, K, ef: 200);

        // Assert
        Assert.That(results.Select(r => r.Distance), Is.Ordered);
        Assert.That(results[0], Is.EqualTo(new HnswSearchResult(17, 0f)));
        Assert.That(results.Select(r => r.Key), Is.EqualTo(index.SearchExactly(query, K).Select(r => r.Key)));
    }

    [Test]
    public void Search_MoreThanStored_ReturnsEveryVector()
    {
        // Arrange
        float[][] vectors = TestVectors.Uniform(5, 4, seed: 5);
        using HnswIndex index = TestVectors.Build(vectors, HnswMetric.L2);

        // Act
        HnswSearchResult[] results = index.Search(vectors[0], 50);

        // Assert
        Assert.That(results.Select(r => r.Key), Is.EquivalentTo(new long[] { 0, 1, 2, 3, 4 }));
    }

    [Test]
    public void Search_EmptyIndex_ReturnsNothing()
    {
        // Arrange
        using var index = new HnswIndex(new HnswOptions { Dimension = 3 });

        // Act
        HnswSearchResult[] results = index.Search([1f, 2f, 3f], 5);

        // Assert
        Assert.That(results, Is.Empty);
    }
}
