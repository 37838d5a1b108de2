using Chroma.Server.Indexing.Hnsw;

namespace Chroma.Server.Tests.Indexing.Hnsw;

/// <summary>Nodes that no search can reach, found and linked in; copies of one vector that trapped searches.</summary>
[TestFixture]
public sealed class HnswIndexConnectivityTests
{
    [Test]
    public void Reconnect_GraphWithUnreachableNodes_EverySearchForAStoredVectorFindsIt()
    {
        // Arrange: ten well-separated clusters and few links (M = 4), inserted one by one, leave nodes that no walk from
        // the entry point reaches (a reproducible build: 22 of them). A beam as wide as the graph visits every node a
        // search can reach, so it misses exactly those.
        // Searches walk the upper layers greedily here (UpperBeam 1): a wider beam hands layer 0 several seeds, and one
        // of them may lie in a part the entry point does not reach on layer 0, which the premise below rules out.
        var vectors = TestVectors.Clustered(3_000, 16, clusters: 10, seed: 2);
        using var index = Build(vectors, m: 4, upperBeam: 1);
        var (unreachableBefore, _) = index.Connectivity();
        Assume.That(unreachableBefore, Is.GreaterThan(0), "the build leaves unreachable nodes");
        Assert.That(SelfMisses(index, vectors), Is.EqualTo(unreachableBefore), "a full-width search misses exactly the unreachable nodes");

        // Act
        var (linked, left) = index.Reconnect();

        // Assert
        Assert.Multiple(() =>
        {
            Assert.That(left, Is.Zero, "nothing left unreachable");
            Assert.That(linked, Is.InRange(1, unreachableBefore), "one link per node at most (a linked node may bring others)");
            Assert.That(index.Connectivity(), Is.EqualTo((0, 0)), "every node reachable and linked to");
            Assert.That(SelfMisses(index, vectors), Is.Zero, "a full-width search finds every stored vector");
            Assert.That(index.Reconnect(), Is.EqualTo((0, 0)), "a second pass has nothing to do");
        });
    }

    [Test]
    public void Reconnect_ConnectedGraph_ChangesNothing()
    {
        // Arrange
        var vectors = TestVectors.Uniform(2_000, 8, seed: 3);
        using var index = Build(vectors, m: 16);
        var before = Saved(index);

        // Act
        var result = index.Reconnect();

        // Assert
        Assert.That(result, Is.EqualTo((0, 0)));
        Assert.That(Saved(index), Is.EqualTo(before), "the same graph, byte for byte");
    }

    [Test]
    public void Reconnect_UnreachableTombstones_AreNotLinkedIn()
    {
        // Arrange: the unreachable nodes of the first test, all removed before the pass.
        var vectors = TestVectors.Clustered(3_000, 16, clusters: 10, seed: 2);
        using var index = Build(vectors, m: 4);
        var unreachable = Enumerable.Range(0, vectors.Length)
            .Where(i => index.Search(vectors[i], 1, ef: vectors.Length)[0].Key != i)
            .ToList();
        Assume.That(unreachable, Is.Not.Empty);
        var (unreachableBefore, _) = index.Connectivity();
        foreach (var key in unreachable)
        {
            index.Remove(key);
        }

        // Act
        var (linked, left) = index.Reconnect();

        // Assert: nodes reachable only through a removed one are still linked in; the removed ones are not.
        Assert.That(left, Is.Zero);
        Assert.That(linked, Is.LessThan(unreachableBefore));
        Assert.That(SelfMisses(index, vectors, skip: unreachable.ToHashSet()), Is.Zero);
    }

    [TestCase(4)]
    [TestCase(6)]
    [TestCase(16)]
    public void Add_ManyCopiesOfFewVectors_EveryNodeStaysReachable(int m)
    {
        // Arrange: 1,000 distinct vectors and 600 copies of 5 others (a default input logged again and again). Copies tie
        // with one another, so the paper's neighbour selection let a copy link only to copies: at M = 6 the entry point
        // was a copy and 1,138 of the 1,600 nodes were unreachable; at M = 4, 1,587.
        var random = new Random(5);
        var repeated = TestVectors.Uniform(5, 8, seed: 9);
        var vectors = TestVectors.Uniform(1_000, 8, seed: 8)
            .Concat(Enumerable.Range(0, 600).Select(i => repeated[i % repeated.Length]))
            .OrderBy(_ => random.Next())
            .ToArray();

        // Act
        using var index = Build(vectors, m);

        // Assert: before any reconnect pass, the graph reaches every distinct vector; a search for one of the repeated
        // vectors returns copies of it first.
        var (unreachable, _) = index.Connectivity();
        Assert.That(unreachable, Is.LessThan(vectors.Length / 10), "at most a few copies unreachable");
        var distinct = Enumerable.Range(0, vectors.Length).Where(i => !repeated.Any(r => r.SequenceEqual(vectors[i]))).ToList();
        Assert.That(distinct.Count(i => index.Search(vectors[i], 1, ef: 64)[0].Key != i), Is.LessThanOrEqualTo(distinct.Count / 100));
        foreach (var copy in repeated)
        {
            Assert.That(index.Search(copy, 5, ef: 64).Select(r => r.Distance), Is.All.EqualTo(0f));
        }

        // A pass links the unreachable copies in too, and says so truthfully.
        var (linked, left) = index.Reconnect();
        Assert.That(linked, Is.GreaterThanOrEqualTo(unreachable == 0 ? 0 : 1));
        Assert.That(left, Is.Zero);
        Assert.That(index.Connectivity(), Is.EqualTo((0, 0)));
    }

    private static HnswIndex Build(float[][] vectors, int m, int upperBeam = 8)
    {
        var index = new HnswIndex(new HnswOptions { Dimension = vectors[0].Length, M = m, EfConstruction = 50, UpperBeam = upperBeam });
        for (var i = 0; i < vectors.Length; i++)
        {
            index.Add(i, vectors[i]);
        }

        return index;
    }

    private static int SelfMisses(HnswIndex index, float[][] vectors, HashSet<int>? skip = null) =>
        Enumerable.Range(0, vectors.Length)
            .Where(i => skip?.Contains(i) != true)
            .Count(i => index.Search(vectors[i], 1, ef: vectors.Length)[0].Key != i);

    private static byte[] Saved(HnswIndex index)
    {
        using var stream = new MemoryStream();
        index.Save(stream);
        return stream.ToArray();
    }
}
