using Chroma.Server.Recommendations;
using NUnit.Framework;

namespace Chroma.Server.Tests.Recommendations;

public class BruteForceNeighborSearchTests
{
    [Test]
    public void Search_PointsOnALine_ReturnsNearestFirstWithExactDistances()
    {
        float[] vectors = [0, 0, 1, 0, 2, 0, 5, 0, 9, 0];
        var search = new BruteForceNeighborSearch(vectors, 2);

        var result = search.Search([4.5f, 0], 3);

        Assert.That(result.Select(r => r.TrainingIndex), Is.EqualTo(new[] { 3, 2, 1 }));
        Assert.That(result.Select(r => r.Distance), Is.EqualTo(new[] { 0.5f, 2.5f, 3.5f }).Within(1e-5f));
    }

    [Test]
    public void Search_KLargerThanCount_ReturnsEveryVector()
    {
        var search = new BruteForceNeighborSearch([1, 0, 0, 1], 2);

        var result = search.Search([1, 0], 10);

        Assert.That(result, Has.Count.EqualTo(2));
        Assert.That(result[0], Is.EqualTo((0, 0f)));
    }

    [Test]
    public void Search_WrongQueryDimension_ThrowsNamingQuery()
    {
        var search = new BruteForceNeighborSearch([1, 0, 0, 1], 2);

        Assert.That(() => search.Search([1, 0, 0], 1), Throws.ArgumentException.With.Property("ParamName").EqualTo("query"));
    }
}
