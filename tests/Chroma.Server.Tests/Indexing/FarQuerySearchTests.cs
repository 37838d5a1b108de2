using Chroma.Server.Indexing;
using Chroma.Server.Indexing.Hnsw;
using Chroma.Server.Indexing.Internal;
using Chroma.Server.Tests.Indexing.Hnsw;

namespace Chroma.Server.Tests.Indexing;

/// <summary>
/// A default search for a query far from the data (between clusters, or off the data's scale), for which the breadth
/// the recall estimate picked near the data is too narrow, is searched again with a wider beam. Clustered vectors,
/// a graph built in order (reproducible), queries scaled far out.
/// </summary>
[TestFixture]
public sealed class FarQuerySearchTests : IndexBuildThreadsFixture
{
    private const int K = 10;

    [Test, CancelAfter(120_000)]
    public async Task Search_QueriesTenTimesTheDataScale_WiderBeamFindsTheExactNeighbours(CancellationToken cancellationToken)
    {
        // Arrange
        var vectors = TestVectors.Clustered(6_000, 24, clusters: 40, seed: 61);
        var graph = TestVectors.Build(vectors, HnswMetric.L2);
        using var index = new HnswVectorIndex(graph, new Dictionary<string, int>());
        index.Estimate = await RecallEstimator.EstimateAsync(graph, Threads, RecallEstimator.DefaultSampleSize, seed: 17, cancellationToken);
        var scale = vectors.Average(v => MathF.Sqrt(v.Sum(x => x * x)));
        var far = TestVectors.Uniform(100, 24, seed: 62).Select(q => Scaled(q, 10 * scale)).ToArray();
        var near = vectors.Take(100).Select(v => v.Select(x => x + 0.001f).ToArray()).ToArray();

        // Act
        var served = far.Select(q => index.Search(q, K).Select(r => r.Sequence).ToArray()).ToList();
        var atTheDefault = far.Select(q => graph.Search(q, K, tag: null, ef: index.SearchBreadth)).ToList();
        var nearWidened = near.Count(q => index.IsFar(graph.Search(q, K, tag: null, ef: index.SearchBreadth), index.Estimate));

        // Assert
        var exact = far.Select(q => TestVectors.ExactNearest(vectors, Enumerable.Range(0, vectors.Length), q, K, HnswMetric.L2)).ToList();
        Assert.Multiple(() =>
        {
            Assert.That(index.Estimate!.NearDistance, Is.GreaterThan(0f));
            Assert.That(TestVectors.Recall(exact, atTheDefault), Is.LessThan(0.9), "precondition: the default breadth misses far queries' neighbours");
            Assert.That(Recall(exact, served), Is.GreaterThanOrEqualTo(0.98));
            Assert.That(nearWidened, Is.Zero, "a query near the data is searched once");
        });
    }

    private static float[] Scaled(float[] direction, float length)
    {
        var norm = MathF.Sqrt(direction.Sum(x => x * x));
        return [.. direction.Select(x => x / norm * length)];
    }

    private static double Recall(List<long[]> exact, List<long[]> found) =>
        exact.Zip(found, (e, f) => f.Count(e.Contains)).Sum() / (double)exact.Sum(e => e.Length);
}
