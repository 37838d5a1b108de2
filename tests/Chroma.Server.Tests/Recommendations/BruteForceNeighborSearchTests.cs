using Chroma.Server.Recommendations;
using NUnit.Framework;

namespace Chroma.Server.Tests.Recommendations;

public class BruteForceNeighborSearchTests
{
    [Test]
    public void Search_PointsOnALineUnderL2_ReturnsNearestFirstWithSquaredDistances()
    {
        float[] vectors = [0, 0, 1, 0, 2, 0, 5, 0, 9, 0];
        var search = new BruteForceNeighborSearch(vectors, 2, NeighborMetric.L2);

        var result = search.Search([4.5f, 0], 3);

        Assert.That(result.Select(r => r.TrainingIndex), Is.EqualTo(new[] { 3, 2, 1 }));
        Assert.That(result.Select(r => r.Distance), Is.EqualTo(new[] { 0.25f, 6.25f, 12.25f }).Within(1e-4f));
    }

    [Test]
    public void Search_UnitVectorsUnderCosine_ReturnsOneMinusCosine()
    {
        // Unit rows at 0, 60 and 180 degrees.
        float[] vectors = [1, 0, 0.5f, MathF.Sqrt(3) / 2, -1, 0];
        var search = new BruteForceNeighborSearch(vectors, 2, NeighborMetric.Cosine);

        var result = search.Search([1, 0], 3);

        Assert.That(result.Select(r => r.TrainingIndex), Is.EqualTo(new[] { 0, 1, 2 }));
        Assert.That(result.Select(r => r.Distance), Is.EqualTo(new[] { 0f, 0.5f, 2f }).Within(1e-5f));
    }

    [TestCase(false)]
    [TestCase(true)]
    public void SearchMany_ManyQueriesOverSeveralRowBlocks_SameAnswersAsOneSearchEach(bool cosine)
    {
        var metric = cosine ? NeighborMetric.Cosine : NeighborMetric.L2;
        const int dimension = 13;
        var (rows, _) = Data.SyntheticEmbeddings.Clusters(4, 70, dimension, 3, seed: 81);
        var (queries, _) = Data.SyntheticEmbeddings.Clusters(4, 9, dimension, 3, seed: 82);
        if (cosine)
        {
            rows = UnitVectors.NormalizeRows(rows, dimension);
            queries = UnitVectors.NormalizeRows(queries, dimension);
        }

        var search = new BruteForceNeighborSearch(rows, dimension, metric);

        var many = search.SearchMany(queries, 10);

        Assert.That(many, Has.Length.EqualTo(36));
        for (var q = 0; q < many.Length; q++)
        {
            Assert.That(many[q], Is.EqualTo(search.Search(queries.AsSpan(q * dimension, dimension), 10)), $"query {q}");
        }
    }

    [Test]
    public void Search_KLargerThanCount_ReturnsEveryVector()
    {
        var search = new BruteForceNeighborSearch([1, 0, 0, 1], 2, NeighborMetric.L2);

        var result = search.Search([1, 0], 10);

        Assert.That(result, Has.Count.EqualTo(2));
        Assert.That(result[0], Is.EqualTo((0, 0f)));
    }

    [Test]
    public void Search_WrongQueryDimension_ThrowsNamingQuery()
    {
        var search = new BruteForceNeighborSearch([1, 0, 0, 1], 2, NeighborMetric.L2);

        Assert.That(() => search.Search([1, 0, 0], 1), Throws.ArgumentException.With.Property("ParamName").EqualTo("query"));
    }
}
