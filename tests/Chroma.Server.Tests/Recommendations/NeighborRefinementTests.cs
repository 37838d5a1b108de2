using Chroma.Server.Recommendations;
using Chroma.Server.Tests.Recommendations.Data;
using NUnit.Framework;

namespace Chroma.Server.Tests.Recommendations;

public class NeighborRefinementTests
{
    private const int Dimension = 8;

    [TestCase(false)]
    [TestCase(true)]
    public void Score_OutliersAndBoundaryRecords_MeasuredOnTheExactNeighboursThatFindNearestReturns(bool cosine)
    {
        var metric = cosine ? NeighborMetric.Cosine : NeighborMetric.L2;
        var (embeddings, labels) = SyntheticEmbeddings.Clusters(3, 200, Dimension, 4, seed: 71);
        var training = new TrainingData(embeddings, Dimension, labels) { Metric = metric };
        var model = RecommendationModel.Fit(training, "v1", EvenRowsSearch.Factory);
        var exact = new BruteForceNeighborSearch(Rows(training, metric), Dimension, metric);

        // Far from every class (beyond the held-out records' distances), and halfway between classes 0 and 1.
        var outliers = SyntheticEmbeddings.Around(Enumerable.Repeat(-6f, Dimension).ToArray(), 10, 1, seed: 72);
        var midpoint = new float[Dimension];
        midpoint[0] = midpoint[1] = 2;
        var boundary = SyntheticEmbeddings.Around(midpoint, 10, 0.3, seed: 73);
        var batch = new ProductionBatch(SyntheticEmbeddings.Ids(20), [.. outliers, .. boundary], Dimension, [.. Enumerable.Repeat<string?>("0", 20)]);

        var scored = RecommendationScorer.Score(model, batch);

        Assert.That(model.NeighborRefinement, Is.Not.Null);
        for (var i = 0; i < scored.Length; i++)
        {
            var expected = NeighborSignals.From(exact.Search(Query(batch.Row(i), metric), 10), labels, "0");
            Assert.That(scored[i].Measurement.Neighbors, Is.EqualTo(expected), $"record {i}");
        }
    }

    [Test]
    public void Score_TypicalRecords_KeepTheFirstSearch()
    {
        var (embeddings, labels) = SyntheticEmbeddings.Clusters(3, 200, Dimension, 4, seed: 74);
        var training = new TrainingData(embeddings, Dimension, labels) { Metric = NeighborMetric.L2 };
        var model = RecommendationModel.Fit(training, "v1", EvenRowsSearch.Factory);
        var first = new EvenRowsSearch(embeddings, Dimension, NeighborMetric.L2);
        var exact = new BruteForceNeighborSearch(embeddings, Dimension, NeighborMetric.L2);
        var (typical, typicalLabels) = SyntheticEmbeddings.Clusters(3, 40, Dimension, 4, seed: 75);
        var batch = new ProductionBatch(SyntheticEmbeddings.Ids(120), typical, Dimension, typicalLabels);

        var scored = RecommendationScorer.Score(model, batch);

        var refined = 0;
        var keptDifferent = 0;
        for (var i = 0; i < scored.Length; i++)
        {
            var once = NeighborSignals.From(first.Search(batch.Row(i), 10), labels, typicalLabels[i]);
            var measured = scored[i].Measurement.Neighbors;
            Assert.That(measured, Is.EqualTo(model.NeighborRefinement!.Applies(once) ? NeighborSignals.From(exact.Search(batch.Row(i), 10), labels, typicalLabels[i]) : once));
            refined += model.NeighborRefinement.Applies(once) ? 1 : 0;
            keptDifferent += !model.NeighborRefinement.Applies(once) && once != NeighborSignals.From(exact.Search(batch.Row(i), 10), labels, typicalLabels[i]) ? 1 : 0;
        }

        Assert.That(refined, Is.InRange(1, scored.Length / 2), "about one record in twenty per signal is searched again");
        Assert.That(keptDifferent, Is.GreaterThan(0), "records below the tail keep the cheaper first search");
    }

    [Test]
    public void Fit_ExactSearch_HasNoRefinement()
    {
        var (embeddings, labels) = SyntheticEmbeddings.Clusters(2, 50, Dimension, 4, seed: 76);

        var model = RecommendationModel.Fit(new TrainingData(embeddings, Dimension, labels), "v1");

        Assert.That(model.NeighborRefinement, Is.Null);
    }

    [Test]
    public void For_SearchAboveTheExactScanBudget_SearchesItsGraphMoreBroadly()
    {
        var (embeddings, _) = SyntheticEmbeddings.Clusters(2, 50, Dimension, 4, seed: 77);
        var search = new EvenRowsSearch(embeddings, Dimension, NeighborMetric.L2);
        NeighborSignals[] heldOut = [new(1, 0, 10, null, 0), new(2, 0.1, 10, "1", 1)];

        var scanned = NeighborRefinement.For(search, embeddings, Dimension, NeighborMetric.L2, heldOut, exactMaxFloats: embeddings.Length);
        var broader = NeighborRefinement.For(search, embeddings, Dimension, NeighborMetric.L2, heldOut, exactMaxFloats: embeddings.Length - 1);

        Assert.That(scanned!.Search, Is.InstanceOf<BruteForceNeighborSearch>());
        Assert.That(broader!.Search, Is.SameAs(search.BroaderSearch));
    }

    [Test]
    public void Applies_FromTheTailQuantileOfTheHeldOutRecords()
    {
        var heldOut = Enumerable.Range(0, 11).Select(i => new NeighborSignals(i, 0, 10, null, 0)).ToArray();
        var refinement = NeighborRefinement.For(new EvenRowsSearch(new float[Dimension * 2], Dimension, NeighborMetric.L2), new float[Dimension * 2], Dimension, NeighborMetric.L2, heldOut)!;

        Assert.Multiple(() =>
        {
            Assert.That(refinement.MeanDistanceFrom, Is.EqualTo(9));
            Assert.That(refinement.Applies(new NeighborSignals(8.9, 0, 10, null, 0)), Is.False);
            Assert.That(refinement.Applies(new NeighborSignals(9, 0, 10, null, 0)), Is.True);
            Assert.That(refinement.Applies(new NeighborSignals(double.NaN, 0, 10, null, 0)), Is.True, "an overflowed distance is as far out as can be");
            Assert.That(refinement.Applies(new NeighborSignals(1, 0.1, 10, "1", 1)), Is.True, "every held-out record agreed: any disagreement is in the tail");
        });
    }

    private static float[] Rows(TrainingData training, NeighborMetric metric) =>
        metric == NeighborMetric.Cosine ? UnitVectors.NormalizeRows(training.Embeddings, Dimension) : training.EmbeddingArray;

    private static float[] Query(ReadOnlySpan<float> row, NeighborMetric metric)
    {
        var query = row.ToArray();
        if (metric == NeighborMetric.Cosine)
        {
            UnitVectors.Normalize(row, query);
        }

        return query;
    }

    // An approximate search by construction: it sees only the even rows, so it misses every odd-row neighbour.
    private sealed class EvenRowsSearch : ITrainingNeighborSearch
    {
        private readonly BruteForceNeighborSearch _even;

        public EvenRowsSearch(float[] rows, int dimension, NeighborMetric metric)
        {
            var count = rows.Length / dimension;
            var even = new float[((count + 1) / 2) * dimension];
            for (var row = 0; row < count; row += 2)
            {
                rows.AsSpan(row * dimension, dimension).CopyTo(even.AsSpan(row / 2 * dimension));
            }

            _even = new BruteForceNeighborSearch(even, dimension, metric);
            BroaderSearch = new BruteForceNeighborSearch(rows, dimension, metric);
        }

        public static NeighborSearchFactory Factory { get; } = (rows, dimension, metric) => new EvenRowsSearch(rows, dimension, metric);

        public ITrainingNeighborSearch BroaderSearch { get; }

        public bool IsExact => false;

        public ITrainingNeighborSearch Broader(int factor) => BroaderSearch;

        public IReadOnlyList<(int TrainingIndex, float Distance)> Search(ReadOnlySpan<float> query, int k) =>
            [.. _even.Search(query, k).Select(n => (n.TrainingIndex * 2, n.Distance))];
    }
}
