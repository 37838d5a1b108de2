using Chroma.Server.Recommendations;
using Chroma.Server.Tests.Recommendations.Data;
using NUnit.Framework;

namespace Chroma.Server.Tests.Recommendations;

public class LabelingStrategyTests
{
    private const int Dimension = 8;

    [Test]
    public void Score_Labeling_WithinAllowance_IsUncertaintyMeanOfBoundaryAndProbabilities()
    {
        SignalScore[] signals =
        [
            new(SignalKind.Mahalanobis, 3, 0.9, 0.01),
            new(SignalKind.KnnDistance, 0.5, 0.9, 0.01),
            new(SignalKind.Boundary, 0.5, 0.99, 0.01),
            new(SignalKind.Entropy, 1, 0.99, 0.001),
            new(SignalKind.Margin, 0.9, 0.99, 0.001),
            new(SignalKind.LeastConfidence, 0.6, 0.99, 0.001),
        ];

        Assert.That(SignalCombiner.Score(signals, RecommendationStrategy.Labeling), Is.EqualTo((2 + 3) / 2.0).Within(1e-9));
    }

    [Test]
    public void Score_Labeling_BeyondAllowance_PenalisedByTheExcessOfTheStrongerDistance()
    {
        SignalScore[] signals =
        [
            new(SignalKind.Mahalanobis, 30, 1, 1e-7),
            new(SignalKind.KnnDistance, 1.2, 1, 1e-5),
            new(SignalKind.Boundary, 0.5, 0.99, 0.01),
        ];

        Assert.That(SignalCombiner.Score(signals, RecommendationStrategy.Labeling), Is.EqualTo(2 - (7 - SignalCombiner.LabelingDistanceAllowance)).Within(1e-9));
    }

    [Test]
    public void Rank_AmbiguousInDistributionAndFarOutliers_LabelingPicksTheAmbiguousReviewPicksTheOutliers()
    {
        // Three classes at 6 e_c; the model's probabilities are confident for ordinary records, split between two
        // classes for records halfway between class 0 and class 1, and just as split for far outliers (another data set).
        var (embeddings, labels) = SyntheticEmbeddings.Clusters(3, 200, Dimension, 6, seed: 30);
        var trainingProbabilities = labels.Select(l => (float[]?)Confident(int.Parse(l, System.Globalization.CultureInfo.InvariantCulture))).ToArray();
        var model = RecommendationModel.Fit(new TrainingData(embeddings, Dimension, labels) { Probabilities = trainingProbabilities }, "v1");

        var ordinary = SyntheticEmbeddings.Around(SyntheticEmbeddings.Axis(Dimension, 2, 6), 60, 1, seed: 31);
        float[] halfway = [3, 3, 0, 0, 0, 0, 0, 0];
        var ambiguous = SyntheticEmbeddings.Around(halfway, 20, 0.7, seed: 32);
        var outliers = SyntheticEmbeddings.Around(SyntheticEmbeddings.Axis(Dimension, 7, 40), 20, 3, seed: 33);
        var ids = (string[])[.. SyntheticEmbeddings.Ids(60, "ordinary"), .. SyntheticEmbeddings.Ids(20, "ambiguous"), .. SyntheticEmbeddings.Ids(20, "outlier")];
        float[]?[] probabilities = [.. Enumerable.Range(0, 60).Select(_ => Confident(2)), .. Enumerable.Range(0, 40).Select(_ => Split())];
        string?[] predicted = [.. Enumerable.Repeat("2", 60), .. Enumerable.Repeat("0", 40)];
        var scored = RecommendationScorer.Score(model, new ProductionBatch(ids, [.. ordinary, .. ambiguous, .. outliers], Dimension, predicted, probabilities));

        var labeling = RecommendationRanker.Rank(scored, RecommendationStrategy.Labeling, 10, diversity: Diversity.Off);
        var review = RecommendationRanker.Rank(scored, RecommendationStrategy.OutOfDistribution, 10, diversity: Diversity.Off);
        var uncertainty = RecommendationRanker.Rank(scored, RecommendationStrategy.Uncertainty, 40, diversity: Diversity.Off);

        Assert.Multiple(() =>
        {
            Assert.That(labeling.Select(r => r.Id), Has.All.StartsWith("ambiguous"));
            Assert.That(review.Select(r => r.Id), Has.All.StartsWith("outlier"));
            Assert.That(uncertainty.Count(r => r.Id.StartsWith("outlier", StringComparison.Ordinal)), Is.GreaterThan(5), "the plain uncertainty ranking mixes the outliers in");
        });
    }

    private static float[] Confident(int c)
    {
        var p = new float[] { 0.01f, 0.01f, 0.01f };
        p[c] = 0.98f;
        return p;
    }

    private static float[] Split() => [0.5f, 0.45f, 0.05f];
}
