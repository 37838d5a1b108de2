using Chroma.Server.Indexing;
using Chroma.Server.Indexing.Hnsw;

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

    [TestCase("remove middle", 0)]
    [TestCase("remove last, then append", 0)]
    [TestCase("overwrite", 0)]
    [TestCase("append", 0)]
    [TestCase("append past capacity", 0)]
    [TestCase("remove middle", 3)]
    [TestCase("remove last, then append", 3)]
    [TestCase("remove three, then append three", 3)]
    [TestCase("overwrite", 3)]
    [TestCase("append", 3)]
    [TestCase("append past capacity", 3)]
    public void Snapshot_IndexChangedAfterIt_SnapshotStillHoldsTheVectorsAsTheyWere(string change, int chunkRows)
    {
        // Arrange: the snapshot shares the index's chunks (no copy), so every later change must leave its rows alone.
        // Chunks of 3 rows put the 10 vectors in four chunks, the last partly filled; 0 is the default chunk (one here).
        const int dimension = 5;
        var random = new Random(7);
        var vectors = Enumerable.Range(0, 10).Select(_ => RandomVector(random, dimension)).ToArray();
        var index = chunkRows == 0 ? new BruteForceVectorIndex(dimension) : new BruteForceVectorIndex(dimension, HnswMetric.L2, chunkRows);
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
            case "remove three, then append three":
                // Frees rows 7-9 (two chunks) by moving them into rows 0, 4 and 5, then appends into the freed rows.
                index.Remove(0);
                index.Remove(4);
                index.Remove(5);
                for (var i = 0; i < 3; i++)
                {
                    index.Add(100 + i, RandomVector(random, dimension), "production");
                }

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
                Assert.That(snapshot.Row(row).ToArray(), Is.EqualTo(vectors[row]), $"row {row}");
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

    [TestCase(false)]
    [TestCase(true)]
    public void Search_AddsRemovalsAndOverwritesAcrossChunks_MatchesNaiveRankingOfWhatIsHeld(bool cosine)
    {
        // Arrange: chunks of 4 rows; 2,000 random changes (a third removals, some overwrites) move rows across chunk edges
        // and empty and refill chunks, with a snapshot taken midway so copy-on-write is exercised too.
        var metric = cosine ? HnswMetric.Cosine : HnswMetric.L2;
        const int dimension = 6;
        var random = new Random(11);
        var index = new BruteForceVectorIndex(dimension, metric, chunkRows: 4);
        var held = new Dictionary<long, float[]>();
        VectorSnapshot? snapshot = null;
        Dictionary<long, float[]>? heldAtSnapshot = null;
        for (var step = 0; step < 2_000; step++)
        {
            if (step == 1_000)
            {
                snapshot = index.Snapshot();
                heldAtSnapshot = new Dictionary<long, float[]>(held);
            }

            var sequence = (long)random.Next(120);
            if (random.Next(3) == 0)
            {
                Assert.That(index.Remove(sequence), Is.EqualTo(held.Remove(sequence)), $"remove {sequence} at step {step}");
            }
            else
            {
                var vector = RandomVector(random, dimension);
                index.Add(sequence, vector, "production");
                held[sequence] = vector;
            }
        }

        var query = RandomVector(random, dimension);

        // Act
        var found = index.Search(query, held.Count);

        // Assert: every held vector, ranked as a naive scan ranks it; the snapshot still reads its rows as they were.
        double Distance(float[] v) => metric == HnswMetric.L2
            ? v.Zip(query, (a, b) => (double)(a - b) * (a - b)).Sum()
            : 1 - (Dot(v, query) / Math.Sqrt(Dot(v, v) * Dot(query, query)));
        var expected = held.OrderBy(p => Distance(p.Value)).ToList();
        Assert.Multiple(() =>
        {
            Assert.That(index.Count, Is.EqualTo(held.Count));
            Assert.That(found.Select(n => n.Sequence), Is.EqualTo(expected.Select(p => p.Key)));
            Assert.That(found.Select(n => (double)n.Distance), Is.EqualTo(expected.Select(p => Distance(p.Value))).Within(1e-4));
            Assert.That(snapshot!.Sequences, Is.EquivalentTo(heldAtSnapshot!.Keys));
            for (var row = 0; row < snapshot.Sequences.Length; row++)
            {
                var original = heldAtSnapshot[snapshot.Sequences[row]];
                var stored = metric == HnswMetric.L2 ? original : [.. original.Select(x => (float)(x / Math.Sqrt(Dot(original, original))))];
                Assert.That(snapshot.Row(row).ToArray(), Is.EqualTo(stored).Within(1e-5f), $"snapshot row {row}");
            }
        });
    }

    [TestCase(false)]
    [TestCase(true)]
    public void Search_SameVectorsAsAGraph_ReportsTheGraphsDistances(bool cosine)
    {
        // Arrange: a set answers from this scan until its graph takes over, and from a scan of its staged tail merged with
        // the graph's answer after: both must measure alike, or the merge would rank the two sides apart.
        var metric = cosine ? HnswMetric.Cosine : HnswMetric.L2;
        const int dimension = 131;
        var random = new Random(5);
        var scan = new BruteForceVectorIndex(dimension, metric);
        using var graph = new HnswIndex(new HnswOptions { Dimension = dimension, Metric = metric, M = 8, EfConstruction = 32 });
        for (var i = 0; i < 300; i++)
        {
            var vector = RandomVector(random, dimension);
            scan.Add(i, vector, "production");
            graph.Add(i, vector);
        }

        var query = RandomVector(random, dimension);

        // Act
        var fromScan = scan.Search(query, 20);
        var fromGraph = graph.SearchExactly(query, 20);

        // Assert
        Assert.Multiple(() =>
        {
            Assert.That(fromScan.Select(n => n.Sequence), Is.EqualTo(fromGraph.Select(r => r.Key)));
            Assert.That(fromScan.Select(n => n.Distance), Is.EqualTo(fromGraph.Select(r => r.Distance)), "the same floats, not just close ones");
        });
    }

    [TestCase(false)]
    [TestCase(true)]
    public void SearchMany_QueriesWithDatasetsAndKs_EachAnswersAsItsOwnSearch(bool cosine)
    {
        // Arrange: chunks of 5 rows, so a pass crosses many chunk edges; one query asks for a dataset the index lacks.
        var metric = cosine ? HnswMetric.Cosine : HnswMetric.L2;
        const int dimension = 9;
        var random = new Random(17);
        var index = new BruteForceVectorIndex(dimension, metric, chunkRows: 5);
        for (var i = 0; i < 203; i++)
        {
            index.Add(i, RandomVector(random, dimension), i % 3 == 0 ? "training" : "production");
        }

        ExactQuery[] queries =
        [
            new(RandomVector(random, dimension), 1, null),
            new(RandomVector(random, dimension), 10, "training"),
            new(RandomVector(random, dimension), 500, null),
            new(RandomVector(random, dimension), 7, "reference"),
            new(RandomVector(random, dimension), 3, "production"),
        ];

        // Act
        var together = index.SearchMany(queries);

        // Assert
        Assert.Multiple(() =>
        {
            for (var q = 0; q < queries.Length; q++)
            {
                Assert.That(together[q], Is.EqualTo(index.Search(queries[q].Vector, queries[q].K, queries[q].Dataset)), $"query {q}");
            }

            Assert.That(together[2], Has.Count.EqualTo(203));
            Assert.That(together[3], Is.Empty);
        });
    }

    private static float[] RandomVector(Random random, int dimension) =>
        [.. Enumerable.Range(0, dimension).Select(_ => (float)((random.NextDouble() * 2) - 1))];

    private static double Dot(float[] a, float[] b) => a.Zip(b, (x, y) => (double)x * y).Sum();
}
