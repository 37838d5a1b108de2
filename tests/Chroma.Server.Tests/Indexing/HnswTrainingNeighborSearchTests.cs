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

    [Test]
    public void Search_ClusteredUnitVectors_MatchesBruteForceWithHighRecall()
    {
        // Arrange
        var rows = UnitRows(TestVectors.Clustered(3000, Dimension, clusters: 12, seed: 5));
        using var oneThread = new BackgroundWorkLimiter(1, "hnsw-test");
        using var hnsw = new HnswTrainingNeighborSearch(rows, Dimension, oneThread); // one thread: reproducible graph
        var exact = new BruteForceNeighborSearch(rows, Dimension);
        var queries = UnitRows(TestVectors.Clustered(100, Dimension, clusters: 12, seed: 6));

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
                var direct = TensorPrimitives.Distance(query, rows.AsSpan(row * Dimension, Dimension));
                maxDistanceError = Math.Max(maxDistanceError, Math.Abs(distance - direct));
            }
        }

        // Assert: distances are Euclidean, like the brute-force search, so calibration sees the same scale.
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
        var search = factory(rows, Dimension);

        // Assert
        Assert.That(search, Is.TypeOf(expected));
        (search as IDisposable)?.Dispose();
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
