using NUnit.Framework;
using Chroma.Server.Indexing.Hnsw;

namespace Chroma.Server.Tests.Indexing.Hnsw;

/// <summary>
/// A rebuild without tombstones (<see cref="HnswIndex.BeginRebuild"/>) copied in steps while the index keeps changing:
/// what was removed, added or replaced between the start and the hand-over is what the rebuilt graph holds.
/// </summary>
[TestFixture]
internal sealed class HnswRebuildTests
{
    private const int K = 10;
    private const int Dimension = 16;

    [TestCase(HnswMetric.L2)]
    [TestCase(HnswMetric.Cosine)]
    public void Complete_AfterChangesDuringTheCopy_TheRebuiltGraphHoldsTheIndexAsItIsThen(HnswMetric metric)
    {
        // Arrange: 3,000 vectors, 2,000 removed (tombstones outnumber the live ones), then a rebuild of the 1,000 left.
        float[][] vectors = TestVectors.Clustered(3400, Dimension, clusters: 8, seed: 51);
        using HnswIndex index = TestVectors.Build(vectors[..3000], metric, i => i % 3);
        for (long key = 0; key < 2000; key++)
        {
            index.Remove(key);
        }

        var rebuild = index.BeginRebuild();
        for (int i = 0; i < rebuild.Count / 2; i++)
        {
            rebuild.Copy(i);
        }

        // Act: during the copy, remove live vectors copied already (2000..2099) and not yet (2900..2999), add 400 new
        // ones (3000..3399), remove two of those, and replace a copied vector (2400) by another.
        for (long key = 2000; key < 2100; key++)
        {
            index.Remove(key);
        }

        for (long key = 2900; key < 3000; key++)
        {
            index.Remove(key);
        }

        for (int i = 3000; i < 3400; i++)
        {
            index.Add(i, vectors[i], i % 3);
        }

        index.Remove(3000);
        index.Remove(3399);
        index.Remove(2400);
        index.Add(2400, vectors[3200].Select(x => x + 0.5f).ToArray(), 1);
        int searchesDuring = index.Search(vectors[2700], K).Length;
        for (int i = rebuild.Count / 2; i < rebuild.Count; i++)
        {
            rebuild.Copy(i);
        }

        var result = rebuild.Complete();

        // Assert
        var live = Enumerable.Range(2100, 800).Where(i => i != 2400).Concat(Enumerable.Range(3001, 398)).ToList();
        var queries = TestVectors.Clustered(50, Dimension, clusters: 8, seed: 52);
        var exact = queries.Select(q => index.SearchExactly(q, K).Select(r => r.Key).ToArray()).ToList();
        var found = queries.Select(q => index.Search(q, K, ef: 100)).ToList();
        Assert.Multiple(() =>
        {
            Assert.That(searchesDuring, Is.EqualTo(K), "searches answer from the old graph during the rebuild");
            Assert.That(index.Count, Is.EqualTo(live.Count + 1));
            Assert.That((index.NodeCount, index.DeletedCount), Is.EqualTo((500 + 400 + 399, 101)), "the 2,000 tombstones of the start are gone");
            Assert.That(result.TombstonesDropped, Is.EqualTo(2000));
            Assert.That(result.AddedDuringRebuild, Is.EqualTo(399), "398 new ones and the replacement");
            Assert.That(result.RemovedDuringRebuild, Is.EqualTo(101), "copied before their removal: 2000..2099 and the replaced 2400");
            Assert.That(live.Where(k => !index.Contains(k)), Is.Empty, "every live key is in the rebuilt graph");
            Assert.That(new long[] { 0, 1999, 2000, 2099, 2900, 2999, 3000, 3399 }.Where(index.Contains), Is.Empty, "no removed key is");
            Assert.That(index.SearchExactly(vectors[3200].Select(x => x + 0.5f).ToArray(), 1)[0].Key, Is.EqualTo(2400), "the replacement's vector is the one held");
            Assert.That(TestVectors.Recall(exact, found), Is.GreaterThanOrEqualTo(0.95));
            Assert.That(index.Rebuild, Is.Null);
        });
    }

    [Test]
    public void BeginRebuild_WhileOneRuns_ThrowsAndAbandoningLeavesTheGraphAsItWas()
    {
        // Arrange
        float[][] vectors = TestVectors.Clustered(500, Dimension, clusters: 4, seed: 53);
        using HnswIndex index = TestVectors.Build(vectors, HnswMetric.L2);
        for (long key = 0; key < 300; key++)
        {
            index.Remove(key);
        }

        var first = index.BeginRebuild();
        first.Copy(0);

        // Act
        var second = Assert.Throws<InvalidOperationException>(() => index.BeginRebuild());
        first.Abandon();
        first.Abandon();
        var afterAbandon = (index.Count, index.DeletedCount, index.Rebuild);
        var copyAfterAbandon = Assert.Throws<InvalidOperationException>(() => first.Copy(1));
        var again = index.BeginRebuild();
        for (int i = 0; i < again.Count; i++)
        {
            again.Copy(i);
        }

        again.Complete();

        // Assert
        Assert.Multiple(() =>
        {
            Assert.That(second!.Message, Does.Contain("already running"));
            Assert.That(afterAbandon, Is.EqualTo((200, 300, (HnswRebuild?)null)));
            Assert.That(copyAfterAbandon!.Message, Does.Contain("abandoned"));
            Assert.That(Assert.Throws<InvalidOperationException>(() => again.Complete())!.Message, Does.Contain("completed"));
            Assert.That((index.Count, index.DeletedCount), Is.EqualTo((200, 0)));
        });
    }
}
