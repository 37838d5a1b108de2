using System.Numerics.Tensors;
using Chroma.Server.Background;
using Chroma.Server.Indexing;
using Chroma.Server.Recommendations;
using Chroma.Server.Tests.Indexing.Hnsw;

namespace Chroma.Server.Tests.Indexing;

[TestFixture]
public sealed class HnswTrainingNeighborSearchTests
{
    private const int Dimension = 32;

    [TestCase(nameof(NeighborMetric.Cosine))]
    [TestCase(nameof(NeighborMetric.L2))]
    public void Search_ClusteredVectors_MatchesBruteForceWithHighRecallAndSameDistances(string metricName)
    {
        var metric = Enum.Parse<NeighborMetric>(metricName);
        // Arrange: unit rows for cosine (as the model passes them), raw rows for L2.
        var raw = TestVectors.Clustered(3000, Dimension, clusters: 12, seed: 5);
        var rows = metric == NeighborMetric.Cosine ? UnitRows(raw) : [.. raw.SelectMany(v => v)];
        using var oneThread = new BackgroundWorkLimiter(1, "hnsw-test");
        using var hnsw = new HnswTrainingNeighborSearch(rows, Dimension, metric, oneThread); // one thread: reproducible graph
        var exact = new BruteForceNeighborSearch(rows, Dimension, metric);
        var rawQueries = TestVectors.Clustered(100, Dimension, clusters: 12, seed: 6);
        var queries = metric == NeighborMetric.Cosine ? UnitRows(rawQueries) : [.. rawQueries.SelectMany(v => v)];

        // Act
        double hits = 0;
        var maxDistanceError = 0f;
        for (var q = 0; q < 100; q++)
        {
            var query = queries.AsSpan(q * Dimension, Dimension);
            var expected = exact.Search(query, 10);
            var actual = hnsw.Search(query, 10);
            hits += actual.Select(n => n.TrainingIndex).Intersect(expected.Select(n => n.TrainingIndex)).Count() / 10.0;
            foreach (var (row, distance) in actual)
            {
                var target = rows.AsSpan(row * Dimension, Dimension);
                var direct = metric == NeighborMetric.Cosine ? 1f - TensorPrimitives.Dot(query, target) : SquaredDistance(query, target);
                maxDistanceError = Math.Max(maxDistanceError, Math.Abs(distance - direct) / Math.Max(1f, direct));
            }
        }

        // Assert: distances are the metric's (squared L2 or 1 - cos), like the brute-force search and FindNearest.
        Assert.Multiple(() =>
        {
            Assert.That(hnsw.Count, Is.EqualTo(3000));
            Assert.That(hits / 100, Is.GreaterThanOrEqualTo(0.95));
            Assert.That(maxDistanceError, Is.LessThan(1e-3f));
        });
    }

    [TestCase(99, typeof(BruteForceNeighborSearch))]
    [TestCase(100, typeof(HnswTrainingNeighborSearch))]
    public void CreateFactory_RowCountAgainstThreshold_PicksExactOrHnsw(int rowCount, Type expected)
    {
        // Arrange
        var factory = HnswTrainingNeighborSearch.CreateFactory(exactThreshold: 100);
        var rows = UnitRows(TestVectors.Uniform(rowCount, Dimension, seed: 7));

        // Act
        var search = factory(rows, Dimension, NeighborMetric.Cosine);

        // Assert
        Assert.That(search, Is.TypeOf(expected));
        (search as IDisposable)?.Dispose();
    }

    private static float SquaredDistance(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        var distance = TensorPrimitives.Distance(a, b);
        return distance * distance;
    }

    private static float[] UnitRows(float[][] vectors)
    {
        var rows = new float[vectors.Length * Dimension];
        for (var i = 0; i < vectors.Length; i++)
        {
            var norm = MathF.Sqrt(vectors[i].Sum(x => x * x));
            for (var j = 0; j < Dimension; j++)
            {
                rows[(i * Dimension) + j] = vectors[i][j] / norm;
            }
        }

        return rows;
    }
}
