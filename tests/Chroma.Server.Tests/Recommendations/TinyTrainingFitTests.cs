using Chroma.Protocol.V1;
using Chroma.Server.Recommendations;
using Chroma.Server.Tests.Recommendations.Data;
using Chroma.Server.Tests.TestSupport;
using NUnit.Framework;

namespace Chroma.Server.Tests.Recommendations;

/// <summary>
/// Any training set the fit accepts (2 records or more) gives a positive definite covariance and a ranking. With 3
/// records the fit kept 2 rows of one class, every centred row was +/- one vector, Ledoit-Wolf chose no shrinkage and
/// the Cholesky factorisation of the singular sample covariance threw, so such a set was never ranked.
/// </summary>
public class TinyTrainingFitTests
{
    private const int Dimension = 8;

    public enum Labelling
    {
        Alternating,
        AllOneClass,
        EachItsOwn,
        Unlabelled,
    }

    [Test]
    public void Fit_TwoRowsOfOneClassDense_IsPositiveDefiniteWithShrinkageFloor()
    {
        // Two rows of one class: centred they are +v and -v, the case where the Ledoit-Wolf shrinkage is exactly 0.
        var training = new TrainingData([1f, 2f, 3f, 4f, 3f, 2f, 1f, 0f], 4, ["a", "a"]);

        var scorer = MahalanobisScorer.Fit(training, [0, 1], labelled: true, MahalanobisScorer.Form.Dense);
        var (distance, _) = scorer.Score([0f, 0f, 0f, 0f]);

        Assert.Multiple(() =>
        {
            Assert.That(scorer.Shrinkage, Is.EqualTo(LedoitWolfCovariance.SingularShrinkageFloor));
            Assert.That(double.IsFinite(distance) && distance > 0, Is.True, $"distance {distance}");
        });
    }

    [Test]
    public void Fit_EnoughRowsYetEveryClassOnOneLine_FallsBackToTheFloor()
    {
        // 8 rows, 2 classes, d = 2: rank by count 6 >= d, but every centred row is +/- (1, 1): S is singular.
        var training = new TrainingData([0, 0, 2, 2, 0, 0, 2, 2, 5, 5, 7, 7, 5, 5, 7, 7], 2, ["a", "a", "a", "a", "b", "b", "b", "b"]);

        var scorer = MahalanobisScorer.Fit(training, [.. Enumerable.Range(0, 8)], labelled: true, MahalanobisScorer.Form.Dense);

        Assert.Multiple(() =>
        {
            Assert.That(scorer.Shrinkage, Is.EqualTo(LedoitWolfCovariance.SingularShrinkageFloor));
            Assert.That(double.IsFinite(scorer.Score([1f, -1f]).Distance), Is.True);
        });
    }

    [Test]
    public void Fit_IdenticalRows_UsesAUnitIdentityInBothForms()
    {
        var training = new TrainingData([1f, 2f, 3f, 4f, 1f, 2f, 3f, 4f, 1f, 2f, 3f, 4f], 4, ["a", "a", "a"]);

        foreach (var form in new[] { MahalanobisScorer.Form.Dense, MahalanobisScorer.Form.LowRank })
        {
            var scorer = MahalanobisScorer.Fit(training, [0, 1, 2], labelled: true, form);
            Assert.That(scorer.Score([1f, 2f, 3f, 6f]).Distance, Is.EqualTo(2).Within(1e-6), form.ToString());
        }
    }

    [Test]
    public void Fit_TwoToNineRecords_FitsAndScoresWithFinitePValues(
        [Range(2, 9)] int records,
        [Values] Labelling labelling,
        [Values(false, true)] bool identical)
    {
        // Arrange
        var random = new Random(1000 + records);
        var embeddings = new float[records * Dimension];
        for (var i = 0; i < embeddings.Length; i++)
        {
            embeddings[i] = identical ? 0.5f : (float)random.NextGaussian();
        }

        var labels = Enumerable.Range(0, records).Select(i => labelling switch
        {
            Labelling.Alternating => (i % 2).ToString(System.Globalization.CultureInfo.InvariantCulture),
            Labelling.AllOneClass => "a",
            Labelling.EachItsOwn => i.ToString(System.Globalization.CultureInfo.InvariantCulture),
            _ => string.Empty,
        }).ToArray();
        var batch = new ProductionBatch(SyntheticEmbeddings.Ids(5), SyntheticEmbeddings.Around(new float[Dimension], 5, 2, seed: 7), Dimension);

        // Act
        var training = new TrainingData(embeddings, Dimension, labels) { Metric = NeighborMetric.L2 };
        var model = RecommendationModel.Fit(training, "v1");
        var scored = RecommendationScorer.Score(model, batch);
        var allRows = Enumerable.Range(0, records).ToArray();
        var distances = new[] { MahalanobisScorer.Form.Dense, MahalanobisScorer.Form.LowRank }
            .SelectMany(form => new[] { true, false }.Select(labelled => MahalanobisScorer.Fit(training, allRows, labelled, form)))
            .Select(scorer => scorer.Score(batch.Row(0)).Distance)
            .ToArray();

        // Assert
        var pValues = scored.SelectMany(r => r.Signals).Select(s => s.PValue).ToArray();
        Assert.Multiple(() =>
        {
            Assert.That(scored, Has.Length.EqualTo(5));
            Assert.That(pValues, Is.Not.Empty);
            Assert.That(pValues, Has.All.Matches<double>(p => double.IsFinite(p) && p > 0 && p <= 1));
            Assert.That(scored.SelectMany(r => r.Signals).Where(s => s.Kind is SignalKind.Mahalanobis or SignalKind.RelativeMahalanobis).Select(s => s.Value), Has.All.Matches<double>(double.IsFinite));
            Assert.That(distances, Has.All.Matches<double>(double.IsFinite), "dense and low-rank, labelled and background, on every row");
            Assert.That(double.IsFinite(model.Mahalanobis.Shrinkage), Is.True);
        });
    }

    [Test, CancelAfter(60_000)]
    public async Task GetRecommendations_ThreeTrainingRecords_RanksTheSet(CancellationToken cancellationToken)
    {
        // Arrange: the probe's shape: 3 labelled training records (2 + 1) and 5 production records, dimension 8.
        await using var server = await RunningServer.StartAsync();
        var set = Records.Set(dimension: Dimension, model: "tiny3");
        var random = new Random(3);
        float[] Point() => [.. Enumerable.Range(0, Dimension).Select(_ => (float)random.NextGaussian())];
        var records = new[] { "0", "1", "0" }.Select(label => Records.Make(Point(), "training", label))
            .Concat(Enumerable.Range(0, 5).Select(_ => Records.Make(Point(), "production")))
            .ToArray();
        await server.LogAsync(Records.Batch(set, records));

        // Act
        var page = await server.Query.GetRecommendationsAsync(
            new GetRecommendationsRequest { SetId = Records.SetId(set), AllScores = true, WaitForAcknowledged = true, WaitTimeoutMs = 30_000 },
            cancellationToken: cancellationToken);

        // Assert
        Assert.Multiple(() =>
        {
            Assert.That(page.CoversRequest, Is.True);
            Assert.That(page.Recommendations, Has.Count.EqualTo(5));
            Assert.That(page.Recommendations.SelectMany(r => r.Signals).Select(s => s.Signal), Does.Contain("mahalanobis"));
        });
    }
}
