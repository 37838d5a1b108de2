using Chroma.Server.Indexing;
using Chroma.Server.Indexing.Hnsw;
using Chroma.Server.Indexing.Internal;
using Chroma.Server.Tests.Indexing.Hnsw;

namespace Chroma.Server.Tests.Indexing;

/// <summary>
/// A default search for a query far from the data (between clusters, or off the data's scale), for which the breadth
/// the recall estimate picked near the data is too narrow, is searched again: with a wider beam, or, where the set holds
/// no more vectors than that walk computes distances, by an exact scan. Clustered vectors,
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
        var (vectors, graph, index, far) = await ClustersAndFarQueriesAsync(cancellationToken);
        using var disposeIndex = index;
        var near = vectors.Take(100).Select(v => v.Select(x => x + 0.001f).ToArray()).ToArray();

        // Act
        var served = far.Select(q => index.Search(q, K).Select(r => r.Sequence).ToArray()).ToList();
        var atTheDefault = far.Select(q => graph.Search(q, K, tag: null, ef: index.SearchBreadth)).ToList();
        var wideBeam = HnswVectorIndex.FarBeam(HnswVectorIndex.DefaultBeam(index.SearchBreadth, K));
        var walked = far.Select(q => graph.Search(q, K, tag: null, ef: wideBeam)).ToList();
        var nearWidened = near.Count(q => index.IsFar(graph.Search(q, K, tag: null, ef: index.SearchBreadth), index.Estimate));

        // Assert
        var exact = far.Select(q => TestVectors.ExactNearest(vectors, Enumerable.Range(0, vectors.Length), q, K, HnswMetric.L2)).ToList();
        Assert.Multiple(() =>
        {
            Assert.That(index.Estimate!.NearDistance, Is.GreaterThan(0f));
            Assert.That(TestVectors.Recall(exact, atTheDefault), Is.LessThan(0.95), "precondition: the default breadth misses far queries' neighbours (0.905 since the upper layers are walked with a beam)");
            Assert.That(HnswVectorIndex.ScanCostsNoMore(vectors.Length, wideBeam, graph.Options.M), Is.True, "precondition: a set this small is scanned");
            Assert.That(Recall(exact, served), Is.EqualTo(1.0), "the scan is exact");
            Assert.That(TestVectors.Recall(exact, walked), Is.GreaterThanOrEqualTo(0.98), "the walk larger sets get at the wide beam");
            Assert.That(nearWidened, Is.Zero, "a query near the data is searched once");
        });
    }

    [Test, CancelAfter(120_000)]
    public async Task SearchFromSample_QueriesTenTimesTheDataScale_FindsWhatTheWalkFromTheDescentMisses(CancellationToken cancellationToken)
    {
        // Arrange: the same graph and far queries; the ten nearest of the first query are deleted.
        var (vectors, graph, index, far) = await ClustersAndFarQueriesAsync(cancellationToken);
        using var disposeIndex = index;
        var removed = TestVectors.ExactNearest(vectors, Enumerable.Range(0, vectors.Length), far[0], K, HnswMetric.L2);
        foreach (var key in removed)
        {
            graph.Remove(key);
        }

        // Act: both at the default breadth.
        var live = Enumerable.Range(0, vectors.Length).Where(i => !removed.Contains((long)i)).ToArray();
        var exact = far.Select(q => TestVectors.ExactNearest(vectors, live, q, K, HnswMetric.L2)).ToList();
        var walked = far.Select(q => graph.Search(q, K, tag: null, ef: index.SearchBreadth)).ToList();
        var seeded = far.Select(q => graph.SearchFromSample(q, K, index.SearchBreadth)).ToList();

        // Assert
        Assert.Multiple(() =>
        {
            Assert.That(TestVectors.Recall(exact, walked), Is.LessThan(0.95), "precondition: the walk from the descent misses far queries' neighbours");
            Assert.That(TestVectors.Recall(exact, seeded), Is.GreaterThanOrEqualTo(0.98));
            Assert.That(seeded[0].Select(r => r.Key).Intersect(removed), Is.Empty, "deleted vectors are not answered");
            Assert.That(seeded.Select(r => r.Length), Is.All.EqualTo(K));
        });
    }

    [TestCase(6_000, 4_096, TestName = "FarSampleSize_SmallGraph_TheFewest")]
    [TestCase(1_000_000, 15_625, TestName = "FarSampleSize_AMillion_OneNodeIn64")]
    [TestCase(10_000_000, 16_384, TestName = "FarSampleSize_TenMillion_TheMost")]
    public void FarSampleSize_GrowsWithTheGraph(int nodes, int sample) =>
        Assert.That(HnswIndex.FarSampleSize(nodes), Is.EqualTo(sample));

    [TestCase(32_768, 1_024, 16, true, TestName = "ScanCostsNoMore_NodesEqualTheWalksDistances_Scans")]
    [TestCase(32_769, 1_024, 16, false, TestName = "ScanCostsNoMore_OneNodeMore_Walks")]
    [TestCase(131_072, 4_096, 16, true, TestName = "ScanCostsNoMore_WiderBeam_ScansMore")]
    [TestCase(16_385, 1_024, 8, false, TestName = "ScanCostsNoMore_FewerLinks_ScansLess")]
    [TestCase(1_000_000, 10_000, 16, false, TestName = "ScanCostsNoMore_AMillionAtTheWidestBeam_Walks")]
    public void ScanCostsNoMore_ByTheWalksDistances(int nodes, int beam, int m, bool scans) =>
        Assert.That(HnswVectorIndex.ScanCostsNoMore(nodes, beam, m), Is.EqualTo(scans));

    // 6,000 clustered vectors in a graph built in order, its recall estimate, and 100 queries in random directions at ten
    // times the vectors' mean length.
    private async Task<(float[][] Vectors, HnswIndex Graph, HnswVectorIndex Index, float[][] Far)> ClustersAndFarQueriesAsync(CancellationToken cancellationToken)
    {
        var vectors = TestVectors.Clustered(6_000, 24, clusters: 40, seed: 61);
        var graph = TestVectors.Build(vectors, HnswMetric.L2);
        var index = new HnswVectorIndex(graph, new Dictionary<string, int>());
        index.Estimate = await RecallEstimator.EstimateAsync(graph, Threads, RecallEstimator.DefaultSampleSize, seed: 17, cancellationToken);
        var scale = vectors.Average(v => MathF.Sqrt(v.Sum(x => x * x)));
        var far = TestVectors.Uniform(100, 24, seed: 62).Select(q => Scaled(q, 10 * scale)).ToArray();
        return (vectors, graph, index, far);
    }

    private static float[] Scaled(float[] direction, float length)
    {
        var norm = MathF.Sqrt(direction.Sum(x => x * x));
        return [.. direction.Select(x => x / norm * length)];
    }

    private static double Recall(List<long[]> exact, List<long[]> found) =>
        exact.Zip(found, (e, f) => f.Count(e.Contains)).Sum() / (double)exact.Sum(e => e.Length);
}
