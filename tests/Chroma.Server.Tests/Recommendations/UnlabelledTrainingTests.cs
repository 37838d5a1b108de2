using Chroma.Protocol.V1;
using RecommendationStrategy = Chroma.Server.Recommendations.RecommendationStrategy;
using Chroma.Server.Recommendations;
using Chroma.Server.Tests.Recommendations.Data;
using Chroma.Server.Tests.TestSupport;
using NUnit.Framework;

namespace Chroma.Server.Tests.Recommendations;

/// <summary>
/// Training records without labels (a corpus an embedding generator's users log as "training") are the reference a
/// production record is measured against: the ranking then has the distance signals and no class-based ones.
/// </summary>
public class UnlabelledTrainingTests
{
    private const int Dimension = 8;

    [Test]
    public void Fit_EveryLabelEmpty_RanksFarRecordsFirstWithoutClassSignals()
    {
        // Arrange: three clusters without labels; production is three fresh points of them and three far away.
        var (embeddings, labels) = SyntheticEmbeddings.Clusters(3, 200, Dimension, 6, seed: 5);
        var model = RecommendationModel.Fit(new TrainingData(embeddings, Dimension, [.. labels.Select(_ => string.Empty)]) { Metric = NeighborMetric.L2 }, "v1");
        var (fresh, _) = SyntheticEmbeddings.Clusters(3, 1, Dimension, 6, seed: 77);
        var far = SyntheticEmbeddings.Around(Enumerable.Repeat(-8f, Dimension).ToArray(), 3, 1, seed: 3);
        var batch = new ProductionBatch(SyntheticEmbeddings.Ids(6), [.. fresh, .. far], Dimension);

        // Act
        var scored = RecommendationScorer.Score(model, batch);

        // Assert
        var balanced = scored.Select(r => SignalCombiner.Score(r, RecommendationStrategy.Balanced)).ToArray();
        Assert.Multiple(() =>
        {
            Assert.That(model.HasClasses, Is.False);
            Assert.That(scored.SelectMany(r => r.Signals).Select(s => s.Kind).Distinct(), Is.EquivalentTo(new[] { SignalKind.Mahalanobis, SignalKind.KnnDistance, SignalKind.FeatureNorm }));
            Assert.That(balanced[3..].Min(), Is.GreaterThan(balanced[..3].Max()), "the far records rank first");
            Assert.That(ReasonWriter.Write(scored[3], RecommendationStrategy.Balanced), Has.Some.StartsWith("far from the training data (Mahalanobis"));
        });
    }

    [Test, CancelAfter(60_000)]
    public async Task GetRecommendations_TrainingLoggedWithoutLabels_RanksTheFarProductionRecordsFirst(CancellationToken cancellationToken)
    {
        // Arrange: 200 unlabelled training records around the origin, 20 production records like them and 5 far off.
        await using var server = await RunningServer.StartAsync();
        var set = Records.Set(dimension: Dimension, model: "corpus");
        var random = new Random(11);
        float[] Near() => [.. Enumerable.Range(0, Dimension).Select(_ => (float)random.NextGaussian())];
        var far = Enumerable.Range(0, 5).Select(_ => Records.Make([.. Near().Select(x => x + 12f)], "production")).ToArray();
        var records = Enumerable.Range(0, 200).Select(_ => Records.Make(Near(), "training"))
            .Concat(Enumerable.Range(0, 20).Select(_ => Records.Make(Near(), "production")))
            .Concat(far)
            .Select(r => { r.Inference = null; return r; })
            .ToArray();
        await server.LogAsync(Records.Batch(set, records));

        // Act
        var page = await server.Query.GetRecommendationsAsync(
            new GetRecommendationsRequest { SetId = Records.SetId(set), AllScores = true, WaitForAcknowledged = true, WaitTimeoutMs = 30_000 },
            cancellationToken: cancellationToken);

        // Every strategy and the served (diversified) list answer too.
        foreach (var strategy in new[] { Protocol.V1.RecommendationStrategy.Uncertainty, Protocol.V1.RecommendationStrategy.Labeling, Protocol.V1.RecommendationStrategy.OutOfDistribution })
        {
            var served = await server.Query.GetRecommendationsAsync(
                new GetRecommendationsRequest { SetId = Records.SetId(set), Strategy = strategy, PageSize = 10 }, cancellationToken: cancellationToken);
            Assert.That(served.Recommendations, Is.Not.Empty, strategy.ToString());
        }

        // Assert
        Assert.Multiple(() =>
        {
            Assert.That(page.CoversRequest, Is.True);
            Assert.That(page.Recommendations, Has.Count.EqualTo(25));
            Assert.That(page.Recommendations.Take(5).Select(r => r.Record.Record.Id), Is.EquivalentTo(far.Select(r => r.Id)));
            Assert.That(page.Recommendations.SelectMany(r => r.Signals).Select(s => s.Signal), Has.None.AnyOf("boundary", "relative_mahalanobis"));
            Assert.That(page.Recommendations[0].Reasons, Is.Not.Empty);
            Assert.That(page.Recommendations.SelectMany(r => r.Reasons), Has.None.Contains("nearest class").And.None.Contains("its class"));
        });
    }
}
