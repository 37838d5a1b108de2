using Chroma.Server.Indexing.Hnsw;

namespace Chroma.Server.Tests.Indexing.Hnsw;

/// <summary>
/// The upper layers are walked with a beam (<see cref="HnswOptions.UpperBeam"/>): between clusters far apart a greedy
/// walk stops in another cluster, and a search or an insert that enters layer 0 there misses the query's cluster
/// (outside-in probe K: a cluster of 8,085 vectors at 1.45M searched at recall@10 0.475). The arrangement is the
/// benchmarks' <c>cluster-islands</c> scaled down so the defect shows at 12,000 vectors: 100 Gaussian clusters far apart,
/// 8,000 vectors built, 4,000 more inserted, small links and breadths.
/// </summary>
[TestFixture]
internal sealed class HnswUpperBeamTests
{
    private const int Dimension = 64;
    private const int Clusters = 100;

    [Test]
    public void Search_ClustersFarApartAfterLaterInserts_FindsTheQuerysClusterWithTheBeam()
    {
        var (data, queries) = ClusteredData(seed: 1);

        var greedy = Recall(data, queries, upperBeam: 1);
        var beam = Recall(data, queries, upperBeam: 8);
        TestContext.Out.WriteLine($"recall@10 at breadth 16: greedy {greedy.Recall:F3} ({greedy.Below} below 0.5), beam {beam.Recall:F3} ({beam.Below})");

        Assert.Multiple(() =>
        {
            Assert.That(greedy.Recall, Is.LessThan(0.85), "the arrangement shows the greedy walk's defect");
            Assert.That(beam.Recall, Is.GreaterThanOrEqualTo(0.92));
            Assert.That(beam.Below, Is.LessThanOrEqualTo(queries.Count / 50), "queries that found fewer than 5 of their 10");
            Assert.That(beam.Below, Is.LessThan(greedy.Below / 5));
        });
    }

    [Test]
    public void Options_UpperBeamBelowOne_IsRefused()
    {
        var thrown = Assert.Throws<ArgumentException>(() => _ = new HnswIndex(new HnswOptions { Dimension = 2, UpperBeam = 0 }));

        Assert.That(thrown!.Message, Does.Contain("UpperBeam must be at least 1, was 0"));
    }

    private static (double Recall, int Below) Recall(List<float[]> data, List<float[]> queries, int upperBeam)
    {
        using var index = new HnswIndex(new HnswOptions { Dimension = Dimension, M = 8, EfConstruction = 16, UpperBeam = upperBeam });
        for (var key = 0; key < data.Count; key++)
        {
            index.Add(key, data[key]);
        }

        var truths = index.SearchExactly(queries, 10);
        double found = 0;
        var below = 0;
        for (var q = 0; q < queries.Count; q++)
        {
            var truth = truths[q].Select(r => r.Key).ToHashSet();
            var hits = index.Search(queries[q], 10, tag: null, ef: 16).Count(r => truth.Contains(r.Key));
            found += hits / 10.0;
            below += hits < 5 ? 1 : 0;
        }

        return (found / queries.Count, below);
    }

    // Centres N(0, 4^2) a coordinate, spreads 0.3-1.5: clusters far apart (probe K's generator). Queries: 10 a cluster,
    // drawn as its vectors are. The first 8,000 vectors are the "first load", the last 4,000 the later inserts.
    private static (List<float[]> Data, List<float[]> Queries) ClusteredData(int seed)
    {
        var random = new Random(seed);
        var centres = Enumerable.Range(0, Clusters).Select(_ => Draw(random, new float[Dimension], 4f)).ToArray();
        var spreads = Enumerable.Range(0, Clusters).Select(_ => 0.3f + (1.2f * random.NextSingle())).ToArray();
        var data = Enumerable.Range(0, 12_000).Select(_ => random.Next(Clusters)).Select(c => Draw(random, centres[c], spreads[c])).ToList();
        var queries = Enumerable.Range(0, Clusters * 10).Select(i => Draw(random, centres[i / 10], spreads[i / 10])).ToList();
        return (data, queries);
    }

    private static float[] Draw(Random random, float[] centre, float spread) =>
        [.. centre.Select(x => x + (spread * (float)(Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble()))))];
}
