using Chroma.Server.Indexing.Hnsw;

namespace Chroma.Server.Tests.Indexing.Hnsw;

/// <summary>
/// The exact search for many queries in one pass (the recall estimate's truth) answers as one exact search per query
/// does: across blocks of vectors, with removed vectors and with ties at the k-th distance.
/// </summary>
[TestFixture]
internal sealed class HnswBatchExactSearchTests
{
    [TestCase(HnswMetric.L2, 8)]
    [TestCase(HnswMetric.Cosine, 8)]
    [TestCase(HnswMetric.InnerProduct, 8)]
    [TestCase(HnswMetric.L2, 700)]
    public void SearchExactly_ManyQueries_AnswersAsOneSearchEach(HnswMetric metric, int dimension)
    {
        // Arrange: more vectors than one block holds (512 of 128 floats), a tenth of them removed, and copies of a few
        // so that some queries meet ties at the tenth distance.
        var random = new Random(7);
        using var index = new HnswIndex(new HnswOptions { Dimension = dimension, Metric = metric, M = 8, EfConstruction = 32 });
        var vectors = new List<float[]>();
        for (var key = 0; key < 1500; key++)
        {
            var vector = key % 100 < 20 && key >= 100 ? vectors[key % 100] : Gaussian(random, dimension);
            vectors.Add(vector);
            index.Add(key, vector);
        }

        for (var key = 0; key < 1500; key += 10)
        {
            index.Remove(key);
        }

        var queries = Enumerable.Range(0, 40).Select(i => i % 4 == 0 ? vectors[(i * 7) + 1] : Gaussian(random, dimension)).ToList();

        // Act
        var batch = index.SearchExactly(queries, 10);

        // Assert
        Assert.That(batch, Has.Length.EqualTo(queries.Count));
        for (var q = 0; q < queries.Count; q++)
        {
            var one = index.SearchExactly(queries[q], 10);
            Assert.That(batch[q], Is.EqualTo(one), $"query {q}");
        }

        Assert.That(batch.SelectMany(r => r).Any(r => r.Key % 10 == 0), Is.False, "removed vectors are never answers");
    }

    [Test]
    public void SearchExactly_TiesAtTheTenthInDescendingKeyOrder_KeepsTheLowestKeys()
    {
        // Five vectors at distance 1 from the query, added with falling keys (node order is the reverse of key order).
        using var index = new HnswIndex(new HnswOptions { Dimension = 8 });
        for (var i = 0; i < 5; i++)
        {
            var axis = new float[8];
            axis[i] = 1;
            index.Add(50 - (10 * i), axis);
        }

        var found = index.SearchExactly([new float[8], new float[8]], 2);

        Assert.That(found.Select(r => r.Select(x => x.Key)), Is.All.EqualTo(new long[] { 10, 20 }));
    }

    [Test]
    public void SearchExactly_FewerVectorsThanK_ReturnsEveryLiveVector()
    {
        using var index = new HnswIndex(new HnswOptions { Dimension = 2 });
        index.Add(1, [0f, 1f]);
        index.Add(2, [0f, 2f]);
        index.Add(3, [0f, 3f]);
        index.Remove(2);

        var found = index.SearchExactly([[0f, 0f]], 10);

        Assert.That(found[0].Select(r => r.Key), Is.EqualTo(new long[] { 1, 3 }));
    }

    [Test]
    public void SearchExactly_QueryOfTheWrongDimension_SaysWhich()
    {
        using var index = new HnswIndex(new HnswOptions { Dimension = 2 });
        index.Add(1, [0f, 1f]);

        var thrown = Assert.Throws<ArgumentException>(() => index.SearchExactly([[0f, 0f], [0f, 0f, 0f]], 1));

        Assert.That(thrown!.Message, Does.Contain("3 values but the index dimension is 2"));
    }

    private static float[] Gaussian(Random random, int dimension) =>
        [.. Enumerable.Range(0, dimension).Select(_ => (float)(Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble())))];
}
