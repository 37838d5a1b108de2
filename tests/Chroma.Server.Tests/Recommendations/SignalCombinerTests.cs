using Chroma.Server.Recommendations;
using NUnit.Framework;

namespace Chroma.Server.Tests.Recommendations;

public class SignalCombinerTests
{
    private static readonly SignalScore[] FarButConfident =
    [
        new(SignalKind.Mahalanobis, 30, 1, 1e-4),
        new(SignalKind.KnnDistance, 1.2, 1, 1e-4),
        new(SignalKind.Boundary, 0, 0, 1),
    ];

    private static readonly SignalScore[] NearButAmbiguous =
    [
        new(SignalKind.Mahalanobis, 2, 0.5, 0.5),
        new(SignalKind.KnnDistance, 0.3, 0.5, 0.5),
        new(SignalKind.Boundary, 0.6, 0.999, 1e-3),
    ];

    [Test]
    public void Score_Balanced_IsWeightedMeanOfSurprises()
    {
        var score = SignalCombiner.Score(FarButConfident, RecommendationStrategy.Balanced);

        Assert.That(score, Is.EqualTo((4 + 4 + 0) / 3.0).Within(1e-9));
    }

    [Test]
    public void Score_FeatureNorm_CountsLikeADistanceSignal()
    {
        SignalScore[] signals = [new(SignalKind.KnnDistance, 0.3, 0.5, 1), new(SignalKind.FeatureNorm, 0.5, 1, 1e-3)];

        Assert.Multiple(() =>
        {
            Assert.That(SignalCombiner.Score(signals, RecommendationStrategy.Balanced), Is.EqualTo(1.5).Within(1e-9));
            Assert.That(SignalCombiner.Score(signals, RecommendationStrategy.OutOfDistribution), Is.EqualTo(1.5).Within(1e-9));
            Assert.That(SignalCombiner.Weight(RecommendationStrategy.Uncertainty, SignalKind.FeatureNorm), Is.EqualTo(0.1));
            Assert.That(SignalCombiner.Score(signals, RecommendationStrategy.Labeling), Is.Zero);
        });
    }

    [Test]
    public void Score_Strategies_OrderRecordsByWhatTheyFavour()
    {
        Assert.That(
            SignalCombiner.Score(FarButConfident, RecommendationStrategy.OutOfDistribution),
            Is.GreaterThan(SignalCombiner.Score(NearButAmbiguous, RecommendationStrategy.OutOfDistribution)));
        Assert.That(
            SignalCombiner.Score(NearButAmbiguous, RecommendationStrategy.Uncertainty),
            Is.GreaterThan(SignalCombiner.Score(FarButConfident, RecommendationStrategy.Uncertainty)));
    }

    [Test]
    public void Weight_ProbabilitySignals_ShareOneVote()
    {
        var total = new[] { SignalKind.Entropy, SignalKind.Margin, SignalKind.LeastConfidence }
            .Sum(k => SignalCombiner.Weight(RecommendationStrategy.Balanced, k));

        Assert.That(total, Is.EqualTo(SignalCombiner.Weight(RecommendationStrategy.Balanced, SignalKind.Boundary)).Within(1e-12));
    }

    [Test]
    public void Score_NoSignals_IsZero()
    {
        Assert.That(SignalCombiner.Score([], RecommendationStrategy.Balanced), Is.Zero);
    }
}
