using Chroma.Server.Indexing;
using Chroma.Server.Tests.Indexing.Hnsw;

namespace Chroma.Server.Tests.Indexing;

[TestFixture]
public sealed class AdaptiveVectorIndexTests
{
    private const int Dimension = 16;

    [Test]
    public void StartBuildIfLarge_BelowThreshold_StaysExact()
    {
        // Arrange
        using var index = new AdaptiveVectorIndex(Dimension, threshold: 100);
        var vectors = TestVectors.Uniform(99, Dimension, seed: 1);
        Fill(index, vectors);

        // Act
        var started = index.StartBuildIfLarge();

        // Assert
        Assert.Multiple(() =>
        {
            Assert.That(started, Is.False);
            Assert.That(index.Hnsw, Is.Null, "exact search answers below the threshold");
            Assert.That(index.Search(vectors[42], 1).Single().Sequence, Is.EqualTo(42));
        });
    }

    [Test, CancelAfter(30_000)]
    public async Task StartBuildIfLarge_AtThreshold_SwitchesToHnswKeepingChangesMadeMeanwhile()
    {
        // Arrange
        using var index = new AdaptiveVectorIndex(Dimension, threshold: 500, buildThreads: 2);
        var vectors = TestVectors.Uniform(600, Dimension, seed: 2);
        Fill(index, vectors[..500]);

        // Act: changes right after the snapshot are replayed onto the graph (or applied to it, if it already took over).
        var started = index.StartBuildIfLarge();
        for (var i = 500; i < 600; i++)
        {
            index.Add(i, vectors[i], "training");
        }

        index.Remove(7);
        await index.BuildCompletion;

        // Assert
        Assert.Multiple(() =>
        {
            Assert.That(started, Is.True);
            Assert.That(index.Hnsw, Is.Not.Null, "the graph took over");
            Assert.That(index.Count, Is.EqualTo(599));
            Assert.That(index.Search(vectors[550], 1).Single().Sequence, Is.EqualTo(550), "added during the build");
            Assert.That(index.Search(vectors[7], 1).Single().Sequence, Is.Not.EqualTo(7), "removed during the build");
            Assert.That(index.StartBuildIfLarge(), Is.False, "a set is built once");
        });
    }

    [Test]
    public void Search_HnswWithDataset_ReturnsOnlyThatDataset()
    {
        // Arrange: threshold 0 means HNSW from the first record.
        using var index = new AdaptiveVectorIndex(Dimension, threshold: 0);
        var vectors = TestVectors.Uniform(300, Dimension, seed: 3);
        for (var i = 0; i < vectors.Length; i++)
        {
            index.Add(i, vectors[i], i % 3 == 0 ? "production" : "training");
        }

        // Act
        var production = index.Search(vectors[1], 10, "production");
        var unknown = index.Search(vectors[1], 10, "validation");

        // Assert
        Assert.Multiple(() =>
        {
            Assert.That(index.Hnsw, Is.Not.Null);
            Assert.That(production, Has.Count.EqualTo(10));
            Assert.That(production.All(n => n.Sequence % 3 == 0), Is.True);
            Assert.That(production.Select(n => n.Distance), Is.Ordered);
            Assert.That(unknown, Is.Empty);
        });
    }

    [Test]
    public void Add_ExistingSequenceInHnsw_ReplacesItsVector()
    {
        // Arrange
        using var index = new AdaptiveVectorIndex(Dimension, threshold: 0);
        var vectors = TestVectors.Uniform(50, Dimension, seed: 4);
        Fill(index, vectors);

        // Act
        index.Add(3, vectors[40], "training");

        // Assert: squared L2 of identical vectors is 0, and the old vector no longer matches record 3.
        var nearNew = index.Search(vectors[40], 2);
        Assert.Multiple(() =>
        {
            Assert.That(index.Count, Is.EqualTo(50));
            Assert.That(nearNew.Select(n => n.Sequence), Is.EquivalentTo(new long[] { 3, 40 }));
            Assert.That(nearNew[0].Distance, Is.Zero);
            Assert.That(index.Search(vectors[3], 1).Single().Sequence, Is.Not.EqualTo(3));
        });
    }

    private static void Fill(AdaptiveVectorIndex index, float[][] vectors)
    {
        for (var i = 0; i < vectors.Length; i++)
        {
            index.Add(i, vectors[i], "training");
        }
    }
}
