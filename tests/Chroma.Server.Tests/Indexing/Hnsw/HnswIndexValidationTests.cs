using NUnit.Framework;
using Chroma.Server.Indexing.Hnsw;

namespace Chroma.Server.Tests.Indexing.Hnsw;

[TestFixture]
public sealed class HnswIndexValidationTests
{
    private static HnswIndex NewIndex(HnswMetric metric = HnswMetric.L2)
    {
        var index = new HnswIndex(new HnswOptions { Dimension = 3, Metric = metric });
        index.Add(1, [1f, 2f, 3f]);
        return index;
    }

    [Test]
    public void Add_WrongDimension_ThrowsNamingDimension()
    {
        using HnswIndex index = NewIndex();
        Assert.That(() => index.Add(2, [1f, 2f]),
            Throws.ArgumentException.With.Message.Contains("2 values but the index dimension is 3").And.Property("ParamName").EqualTo("vector"));
    }

    [TestCase(float.NaN)]
    [TestCase(float.PositiveInfinity)]
    public void Add_NonFiniteValue_ThrowsNamingTheElement(float bad)
    {
        using HnswIndex index = NewIndex();
        Assert.That(() => index.Add(2, [1f, bad, 3f]),
            Throws.ArgumentException.With.Message.Contains("vector[1]").And.Message.Contains("finite"));
    }

    [Test]
    public void Add_DuplicateKey_ThrowsNamingTheKey()
    {
        using HnswIndex index = NewIndex();
        Assert.That(() => index.Add(1, [4f, 5f, 6f]),
            Throws.ArgumentException.With.Message.Contains("Key 1 is already in the index").And.Property("ParamName").EqualTo("key"));
        Assert.That(index.Count, Is.EqualTo(1));
    }

    [Test]
    public void Add_ZeroVectorUnderCosine_ThrowsExplainingWhy()
    {
        using HnswIndex index = NewIndex(HnswMetric.Cosine);
        Assert.That(() => index.Add(2, [0f, 0f, 0f]), Throws.ArgumentException.With.Message.Contains("all zeros"));
    }

    [TestCase(-1)]
    [TestCase(HnswIndex.MaxTag + 1)]
    public void Add_TagOutOfRange_ThrowsNamingTag(int tag)
    {
        using HnswIndex index = NewIndex();
        Assert.That(() => index.Add(2, [1f, 1f, 1f], tag), Throws.InstanceOf<ArgumentOutOfRangeException>().With.Property("ParamName").EqualTo("tag"));
    }

    [Test]
    public void Search_WrongDimensionOrNaN_ThrowsNamingQuery()
    {
        using HnswIndex index = NewIndex();
        Assert.That(() => index.Search([1f, 2f, 3f, 4f], 1), Throws.ArgumentException.With.Property("ParamName").EqualTo("query"));
        Assert.That(() => index.Search([1f, float.NaN, 3f], 1), Throws.ArgumentException.With.Message.Contains("query[1]"));
    }

    [TestCase(0)]
    [TestCase(-3)]
    public void Search_NonPositiveK_ThrowsNamingK(int k)
    {
        using HnswIndex index = NewIndex();
        Assert.That(() => index.Search([1f, 2f, 3f], k), Throws.InstanceOf<ArgumentOutOfRangeException>().With.Property("ParamName").EqualTo("k"));
    }

    [TestCase(0, 16, 200, "Dimension")]
    [TestCase(8, 1, 200, "M")]
    [TestCase(8, 16, 4, "EfConstruction")]
    public void Constructor_InvalidOption_ThrowsNamingTheOption(int dimension, int m, int efConstruction, string option)
    {
        var options = new HnswOptions { Dimension = dimension, M = m, EfConstruction = efConstruction };
        Assert.That(() => new HnswIndex(options), Throws.ArgumentException.With.Property("ParamName").EqualTo(option));
    }
}
