using Chroma.Server.Indexing;

namespace Chroma.Server.Tests.Indexing;

[TestFixture]
public sealed class BruteForceVectorIndexTests
{
    [Test]
    public void Search_RandomVectors_MatchesNaiveSquaredL2Ranking()
    {
        // Arrange: 600 vectors of 37-d (odd, so SIMD remainders are exercised), fixed seed.
        const int dimension = 37;
        var random = new Random(42);
        var vectors = Enumerable.Range(0, 600).Select(_ => RandomVector(random, dimension)).ToList();
        var index = new BruteForceVectorIndex(dimension);
        for (var i = 0; i < vectors.Count; i++)
        {
            index.Add(1000 + i, vectors[i], i % 3 == 0 ? "production" : "training");
        }

        var query = RandomVector(random, dimension);

        // Act
        var found = index.Search(query, 10);

        // Assert
        var expected = vectors
            .Select((v, i) => (Sequence: 1000L + i, Distance: v.Zip(query, (a, b) => (a - b) * (a - b)).Sum()))
            .OrderBy(x => x.Distance)
            .Take(10)
            .ToList();
        Assert.Multiple(() =>
        {
            Assert.That(found.Select(n => n.Sequence), Is.EqualTo(expected.Select(e => e.Sequence)));
            Assert.That(found.Select(n => n.Distance), Is.EqualTo(expected.Select(e => e.Distance)).Within(1e-3f));
        });
    }

    [Test]
    public void Search_CosineMetric_MatchesNaiveOneMinusCosineRanking()
    {
        // Arrange: vectors of very different norms, so L2 and cosine disagree on the order.
        const int dimension = 37;
        var random = new Random(43);
        var vectors = Enumerable.Range(0, 600).Select(i => RandomVector(random, dimension).Select(x => x * (1 + (i % 7))).ToArray()).ToList();
        var index = new BruteForceVectorIndex(dimension, Server.Indexing.Hnsw.HnswMetric.Cosine);
        for (var i = 0; i < vectors.Count; i++)
        {
            index.Add(1000 + i, vectors[i], "training");
        }

        var query = RandomVector(random, dimension);

        // Act
        var found = index.Search(query, 10);

        // Assert
        var expected = vectors
            .Select((v, i) => (Sequence: 1000L + i, Distance: 1 - (Dot(v, query) / Math.Sqrt(Dot(v, v) * Dot(query, query)))))
            .OrderBy(x => x.Distance)
            .Take(10)
            .ToList();
        Assert.Multiple(() =>
        {
            Assert.That(found.Select(n => n.Sequence), Is.EqualTo(expected.Select(e => e.Sequence)));
            Assert.That(found.Select(n => (double)n.Distance), Is.EqualTo(expected.Select(e => e.Distance)).Within(1e-5));
        });
    }

    [Test]
    public void Add_ZeroVectorUnderCosine_ThrowsNamingIt()
    {
        var index = new BruteForceVectorIndex(3, Server.Indexing.Hnsw.HnswMetric.Cosine);

        Assert.That(() => index.Add(1, new float[3], "training"), Throws.ArgumentException.With.Message.Contains("all zeros"));
    }

    [Test]
    public void Search_DatasetFilter_ReturnsOnlyThatDataset()
    {
        // Arrange
        var index = new BruteForceVectorIndex(2);
        index.Add(1, [0, 0], "training");
        index.Add(2, [0.1f, 0], "production");
        index.Add(3, [1, 0], "training");

        // Act
        var training = index.Search([0.1f, 0], 5, "training");
        var unknown = index.Search([0.1f, 0], 5, "validation");

        // Assert
        Assert.Multiple(() =>
        {
            Assert.That(training.Select(n => n.Sequence), Is.EqualTo(new long[] { 1, 3 }));
            Assert.That(training[0].Distance, Is.EqualTo(0.01f).Within(1e-6f));
            Assert.That(unknown, Is.Empty);
        });
    }

    [TestCase("remove middle")]
    [TestCase("remove last, then append")]
    [TestCase("overwrite")]
    [TestCase("append")]
    [TestCase("append past capacity")]
    public void Snapshot_IndexChangedAfterIt_SnapshotStillHoldsTheVectorsAsTheyWere(string change)
    {
        // Arrange: the snapshot shares the index's vector array (no copy), so every later change must leave its rows alone.
        const int dimension = 5;
        var random = new Random(7);
        var vectors = Enumerable.Range(0, 10).Select(_ => RandomVector(random, dimension)).ToArray();
        var index = new BruteForceVectorIndex(dimension);
        for (var i = 0; i < vectors.Length; i++)
        {
            index.Add(i, vectors[i], "production");
        }

        var snapshot = index.Snapshot();

        // Act
        switch (change)
        {
            case "remove middle":
                index.Remove(3);
                break;
            case "remove last, then append":
                index.Remove(9);
                index.Add(100, RandomVector(random, dimension), "production");
                break;
            case "overwrite":
                index.Add(4, RandomVector(random, dimension), "production");
                break;
            case "append":
                index.Add(100, RandomVector(random, dimension), "production");
                break;
            default:
                for (var i = 0; i < 1000; i++)
                {
                    index.Add(100 + i, RandomVector(random, dimension), "production");
                }

                index.Remove(0);
                break;
        }

        // Assert
        Assert.Multiple(() =>
        {
            Assert.That(snapshot.Sequences, Is.EqualTo(Enumerable.Range(0, vectors.Length).Select(i => (long)i)));
            for (var row = 0; row < vectors.Length; row++)
            {
                Assert.That(snapshot.Vectors.AsSpan(row * dimension, dimension).ToArray(), Is.EqualTo(vectors[row]), $"row {row}");
            }
        });
    }

    [Test]
    public void Remove_MiddleVector_IsNeverFoundAgainAndOthersStay()
    {
        // Arrange
        var index = new BruteForceVectorIndex(1);
        for (var i = 0; i < 300; i++)
        {
            index.Add(i, [i], "training");
        }

        // Act
        var removed = index.Remove(150);
        var removedAgain = index.Remove(150);
        var near = index.Search([150], 2);

        // Assert
        Assert.Multiple(() =>
        {
            Assert.That(removed, Is.True);
            Assert.That(removedAgain, Is.False);
            Assert.That(index.Count, Is.EqualTo(299));
            Assert.That(near.Select(n => n.Sequence), Is.EquivalentTo(new long[] { 149, 151 }));
            Assert.That(index.Search([299], 1).Single().Sequence, Is.EqualTo(299), "the moved last vector is still found");
        });
    }

    [Test]
    public void Add_SameSequenceTwice_ReplacesVector()
    {
        // Arrange
        var index = new BruteForceVectorIndex(1);
        index.Add(7, [0], "training");

        // Act
        index.Add(7, [10], "training");

        // Assert
        Assert.Multiple(() =>
        {
            Assert.That(index.Count, Is.EqualTo(1));
            Assert.That(index.Search([10], 1).Single().Distance, Is.Zero);
        });
    }

    private static float[] RandomVector(Random random, int dimension) =>
        [.. Enumerable.Range(0, dimension).Select(_ => (float)((random.NextDouble() * 2) - 1))];

    private static double Dot(float[] a, float[] b) => a.Zip(b, (x, y) => (double)x * y).Sum();
}
