using System.Numerics.Tensors;
using Chroma.Server.Recommendations;
using NUnit.Framework;

namespace Chroma.Server.Tests.Recommendations;

public class NearDuplicateGrouperTests
{
    [Test]
    public void Group_ChainOfNearCopies_FormsOneGroupOthersStayAlone()
    {
        // Unit vectors at angles 0, 0.03, 0.06 rad chain together (each step 0.03 < 0.05);
        // 0.5 rad and 1.5 rad are far from everything.
        double[] angles = [0, 1.5, 0.03, 0.5, 0.06];
        var vectors = angles.Select(a => new ReadOnlyMemory<float>([(float)Math.Cos(a), (float)Math.Sin(a)])).ToArray();

        var groups = NearDuplicateGrouper.Group(vectors, 0.05);

        Assert.That(groups, Has.Count.EqualTo(3));
        Assert.That(groups[0], Is.EqualTo(new[] { 0, 2, 4 }));
        Assert.That(groups[1], Is.EqualTo(new[] { 1 }));
        Assert.That(groups[2], Is.EqualTo(new[] { 3 }));
    }

    [Test]
    public void Group_ZeroThreshold_GroupsOnlyIdenticalVectors()
    {
        ReadOnlyMemory<float>[] vectors = [new float[] { 1, 0 }, new float[] { 0, 1 }, new float[] { 1, 0 }];

        var groups = NearDuplicateGrouper.Group(vectors, 0);

        Assert.That(groups, Has.Count.EqualTo(2));
        Assert.That(groups[0], Is.EqualTo(new[] { 0, 2 }));
    }

    [TestCase(1)]
    [TestCase(3)]
    [TestCase(20)]
    [TestCase(int.MaxValue)]
    public void Group_FloodsChainsAndStrays_SameGroupsAsComparingEveryPairInReach(int reach)
    {
        // Known answer: the groups of comparing every pair at most `reach` apart (the definition). Runs of copies, copies
        // interleaved with strays, chains that bend back towards earlier records, and exact repeats of an earlier copy.
        var random = new Random(31);
        var vectors = new List<ReadOnlyMemory<float>>();
        for (var block = 0; block < 40; block++)
        {
            var centre = Unit(random, 16, null, 1);
            var kind = block % 4;
            var length = random.Next(1, 25);
            for (var k = 0; k < length; k++)
            {
                vectors.Add(kind switch
                {
                    0 => Unit(random, 16, centre, 0.002),                            // a flood
                    1 => k % 2 == 0 ? Unit(random, 16, centre, 0.002) : Unit(random, 16, null, 1), // copies among strays
                    2 => Unit(random, 16, centre, 0.02 * (k % 5)),                   // a chain that bends back
                    _ => vectors.Count > 0 && k % 3 == 0 ? vectors[random.Next(vectors.Count)] : Unit(random, 16, null, 1),
                });
            }
        }

        var groups = NearDuplicateGrouper.Group(vectors, 0.05, reach);

        Assert.That(groups, Is.EqualTo(EveryPairInReach(vectors, 0.05, reach)));
        Assert.That(groups.Count(g => g.Count > 1), Is.GreaterThan(10), "the data has groups to find");
    }

    [Test]
    public void Group_FloodOfTwentyThousandCopies_OneGroupWithoutComparingEveryPairInReach()
    {
        // Comparing every pair in a pool of 1,000, a flood of 20,000 copies links 20 million near pairs (160 MB of links
        // alone); skipping the pairs already connected, the flood costs about one comparison per copy.
        var random = new Random(32);
        var centre = Unit(random, 32, null, 1);
        var vectors = Enumerable.Range(0, 20_000).Select(_ => Unit(random, 32, centre, 0.002)).Append(Unit(random, 32, null, 1)).ToArray();
        NearDuplicateGrouper.Group(vectors[..100], 0.05, 1_000);

        var before = GC.GetTotalAllocatedBytes(precise: true);
        var groups = NearDuplicateGrouper.Group(vectors, 0.05, 1_000);
        var allocated = GC.GetTotalAllocatedBytes(precise: true) - before;

        Assert.That(groups.Select(g => g.Count), Is.EqualTo(new[] { 20_000, 1 }));
        Assert.That(allocated, Is.LessThan(16L << 20), "bytes allocated: a link per pair compared would be 160 MB");
    }

    // The definition: union every pair at most `reach` apart whose distance is at most the threshold.
    private static List<List<int>> EveryPairInReach(List<ReadOnlyMemory<float>> vectors, double threshold, int reach)
    {
        var parent = Enumerable.Range(0, vectors.Count).ToArray();
        int Find(int x) => parent[x] == x ? x : parent[x] = Find(parent[x]);
        for (var i = 0; i < vectors.Count; i++)
        {
            for (var j = i + 1; j < vectors.Count && j - i <= reach; j++)
            {
                var d = TensorPrimitives.Distance(vectors[i].Span, vectors[j].Span);
                if (d * d <= (float)(threshold * threshold))
                {
                    parent[Find(j)] = Find(i);
                }
            }
        }

        return [.. Enumerable.Range(0, vectors.Count).GroupBy(Find).OrderBy(g => g.Min()).Select(g => g.Order().ToList())];
    }

    // A unit vector: random, or `centre` moved by Gaussian noise of `scale` per coordinate.
    private static ReadOnlyMemory<float> Unit(Random random, int width, ReadOnlyMemory<float>? centre, double scale)
    {
        var v = new float[width];
        for (var j = 0; j < width; j++)
        {
            var noise = scale * Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
            v[j] = (float)((centre?.Span[j] ?? 0) + noise);
        }

        var unit = new float[width];
        UnitVectors.Normalize(v, unit);
        return unit;
    }
}
