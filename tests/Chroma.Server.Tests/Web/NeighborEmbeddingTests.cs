using Chroma.Server.Web.Internal;

namespace Chroma.Server.Tests.Web;

/// <summary>
/// The UMAP-style map on data with known clusters: points of one cluster stay together on the map, and records
/// placed later (by their nearest fitted neighbours) land among their own cluster.
/// </summary>
[TestFixture]
public sealed class NeighborEmbeddingTests
{
    private const int Clusters = 6;
    private const int Dimension = 96;

    [Test]
    [CancelAfter(60_000)]
    public void Fit_SeparatedClusters_NearestMapNeighboursShareTheCluster()
    {
        var (rows, cluster) = Generate(perCluster: 120, seed: 1);

        var map = NeighborEmbedding.Fit(rows);
        var points = rows.Select(r => map.Project(r)).ToArray();

        var agreement = NeighbourAgreement(points, cluster, points, cluster, k: 10, excludeSelf: true);
        TestContext.Out.WriteLine($"share of the 10 nearest map neighbours in the same cluster: {agreement:F3}");
        Assert.That(agreement, Is.GreaterThan(0.97));
    }

    [Test]
    [CancelAfter(60_000)]
    public void Project_LaterRecordsOfKnownClusters_LandAmongTheirCluster()
    {
        var (fitted, fittedCluster) = Generate(perCluster: 80, seed: 2);
        var (later, laterCluster) = Generate(perCluster: 40, seed: 3);
        var map = NeighborEmbedding.Fit(fitted);
        var fittedPoints = fitted.Select(r => map.Project(r)).ToArray();

        var laterPoints = later.Select(r => map.Project(r)).ToArray();

        var agreement = NeighbourAgreement(laterPoints, laterCluster, fittedPoints, fittedCluster, k: 5, excludeSelf: false);
        TestContext.Out.WriteLine($"share of the 5 nearest fitted map points in the later record's cluster: {agreement:F3}");
        Assert.That(agreement, Is.GreaterThan(0.97));
    }

    [Test]
    [CancelAfter(60_000)]
    public void Fit_SameRowsAndSeed_SameLayoutAndFittedRowsKeepTheirPlace()
    {
        var (rows, _) = Generate(perCluster: 30, seed: 4);

        var first = NeighborEmbedding.Fit(rows, seed: 9);
        var second = NeighborEmbedding.Fit(rows, seed: 9);

        Assert.Multiple(() =>
        {
            Assert.That(rows.Select(r => first.Project(r)), Is.EqualTo(rows.Select(r => second.Project(r))));
            Assert.That(first.FittedRows, Is.EqualTo(rows.Count));
            Assert.That(first.Name, Is.EqualTo("UMAP"));
        });
    }

    [Test]
    [CancelAfter(60_000)]
    public void Fit_OneOrTwoRows_PlacesThemWithoutFailing()
    {
        var one = NeighborEmbedding.Fit([[1f, 2f, 3f]]);
        var two = NeighborEmbedding.Fit([[1f, 2f, 3f], [3f, 2f, 1f]]);

        Assert.Multiple(() =>
        {
            Assert.That(float.IsFinite(one.Project([1f, 2f, 3f]).X), Is.True);
            Assert.That(two.Project([1f, 2f, 3f]), Is.Not.EqualTo(two.Project([3f, 2f, 1f])));
            Assert.That(() => NeighborEmbedding.Fit([[1f, 2f], [1f]]), Throws.ArgumentException);
        });
    }

    // Gaussian clusters around random centres; cluster i's centre is the same for every seed.
    private static (List<float[]> Rows, int[] Cluster) Generate(int perCluster, int seed)
    {
        var centres = new Random(100);
        var centre = Enumerable.Range(0, Clusters).Select(_ => Enumerable.Range(0, Dimension).Select(_ => (float)(Normal(centres) * 3)).ToArray()).ToArray();
        var random = new Random(seed);
        var rows = new List<float[]>();
        var cluster = new List<int>();
        for (var i = 0; i < perCluster * Clusters; i++)
        {
            var c = i % Clusters;
            rows.Add([.. centre[c].Select(v => v + (float)Normal(random))]);
            cluster.Add(c);
        }

        return (rows, [.. cluster]);
    }

    private static double Normal(Random random) =>
        Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());

    private static double NeighbourAgreement((float X, float Y)[] queries, int[] queryCluster, (float X, float Y)[] points, int[] pointCluster, int k, bool excludeSelf)
    {
        var same = 0;
        for (var q = 0; q < queries.Length; q++)
        {
            var nearest = Enumerable.Range(0, points.Length)
                .Where(p => !excludeSelf || p != q)
                .OrderBy(p => Math.Pow(points[p].X - queries[q].X, 2) + Math.Pow(points[p].Y - queries[q].Y, 2))
                .Take(k);
            same += nearest.Count(p => pointCluster[p] == queryCluster[q]);
        }

        return same / (double)(queries.Length * k);
    }
}
