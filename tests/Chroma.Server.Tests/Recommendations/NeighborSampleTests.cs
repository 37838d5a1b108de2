using Chroma.Server.Recommendations;
using Chroma.Server.Recommendations.Internal;
using Chroma.Server.Tests.Recommendations.Data;
using NUnit.Framework;

namespace Chroma.Server.Tests.Recommendations;

public class NeighborSampleTests
{
    [Test]
    public void Take_AtOrBelowTheCap_ReturnsEveryRow()
    {
        int[] rows = [0, 2, 3, 7];

        var sample = NeighborSample.Take(rows, ["a", "b", "a", "b", "a", "b", "a", "b"], maxRows: 4, seed: 1);

        Assert.That(sample, Is.SameAs(rows));
    }

    [Test]
    public void Take_AboveTheCap_KeepsEachClassInProportionAndTheRareClass()
    {
        // 900 rows of "a", 90 of "b", 1 of "rare": a cap of 99 keeps about 90 / 9 / 1.
        var labels = Enumerable.Range(0, 991).Select(i => i < 900 ? "a" : i < 990 ? "b" : "rare").ToArray();
        var rows = Enumerable.Range(0, 991).ToArray();

        var sample = NeighborSample.Take(rows, labels, maxRows: 99, seed: 5);

        Assert.That(sample.Count(i => labels[i] == "a"), Is.EqualTo(90));
        Assert.That(sample.Count(i => labels[i] == "b"), Is.EqualTo(9));
        Assert.That(sample.Count(i => labels[i] == "rare"), Is.EqualTo(1));
        Assert.That(sample, Is.Ordered.Ascending);
        Assert.That(sample, Is.Unique);
        Assert.That(sample, Is.SubsetOf(rows));
    }

    [Test]
    public void Take_SameSeed_SameSample()
    {
        var labels = Enumerable.Range(0, 500).Select(i => (i % 3).ToString(System.Globalization.CultureInfo.InvariantCulture)).ToArray();
        var rows = Enumerable.Range(0, 500).ToArray();

        Assert.That(NeighborSample.Take(rows, labels, 50, seed: 9), Is.EqualTo(NeighborSample.Take(rows, labels, 50, seed: 9)));
        Assert.That(NeighborSample.Take(rows, labels, 50, seed: 9), Is.Not.EqualTo(NeighborSample.Take(rows, labels, 50, seed: 10)));
    }

    [Test]
    public void Fit_MoreFittedRowsThanMaxNeighborRows_SearchesASampleAndStillSeparatesFarRecords()
    {
        const int dimension = 8;
        var (embeddings, labels) = SyntheticEmbeddings.Clusters(3, 400, dimension, 6, seed: 21);
        var options = new RecommendationOptions { MaxNeighborRows = 120 };

        var model = RecommendationModel.Fit(new TrainingData(embeddings, dimension, labels), "v1", options: options);

        Assert.That(model.NeighborLabels, Has.Count.EqualTo(120));
        Assert.That(model.NeighborRows, Has.Count.EqualTo(120));
        Assert.That(model.FitDurations.FittedRows, Is.GreaterThan(1_000), "means and covariance still use every fitted row");
        Assert.That(model.FitDurations.NeighborRows, Is.EqualTo(120));
        for (var i = 0; i < model.NeighborRows.Count; i++)
        {
            Assert.That(model.NeighborLabels[i], Is.EqualTo(labels[model.NeighborRows[i]]), "labels are indexed like the search");
        }

        // Records from the training clusters stay unremarkable, records far from every cluster stand out.
        var (fresh, freshLabels) = SyntheticEmbeddings.Clusters(3, 50, dimension, 6, seed: 22);
        var far = SyntheticEmbeddings.Around(SyntheticEmbeddings.Axis(dimension, 7, 10), 30, 0.5, seed: 23);
        var batch = new ProductionBatch(SyntheticEmbeddings.Ids(180), [.. fresh, .. far], dimension, [.. freshLabels, .. Enumerable.Repeat("0", 30)]);
        var scored = RecommendationScorer.Score(model, batch);
        var knn = scored.Select(r => r.Signal(SignalKind.KnnDistance)!.Value.Percentile).ToArray();
        Assert.That(knn[..150].Average(), Is.InRange(0.3, 0.7));
        Assert.That(knn[150..].Min(), Is.GreaterThan(0.99));
    }
}
