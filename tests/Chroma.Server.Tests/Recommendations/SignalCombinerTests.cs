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
    public void Score_UncertaintyRecordWithoutProbabilities_RanksAsTypicalProbabilitiesWouldNotOnDistanceAlone()
    {
        // A far-out record logged without inference (no probability signals) against an ambiguous one with them.
        SignalScore[] farWithoutInference = [new(SignalKind.Mahalanobis, 90, 1, 1e-8), new(SignalKind.KnnDistance, 9, 1, 1e-8), new(SignalKind.Boundary, 0.1, 0.5, 0.5)];
        SignalScore[] farWithTypicalProbabilities = [.. farWithoutInference, new(SignalKind.Entropy, 0.5, 0.5, 0.5), new(SignalKind.Margin, 0.5, 0.5, 0.5), new(SignalKind.LeastConfidence, 0.5, 0.5, 0.5)];
        SignalScore[] ambiguous =
        [
            new(SignalKind.Mahalanobis, 2, 0.5, 0.5), new(SignalKind.KnnDistance, 0.3, 0.5, 0.5), new(SignalKind.Boundary, 0.5, 0.95, 0.1),
            new(SignalKind.Entropy, 0.69, 0.99, 0.01), new(SignalKind.Margin, 0.02, 0.99, 0.01), new(SignalKind.LeastConfidence, 0.49, 0.99, 0.01),
        ];

        var without = SignalCombiner.Score(farWithoutInference, RecommendationStrategy.Uncertainty);
        var typical = SignalCombiner.Score(farWithTypicalProbabilities, RecommendationStrategy.Uncertainty);
        var real = SignalCombiner.Score(ambiguous, RecommendationStrategy.Uncertainty);

        // Before: the weights were renormalised over the signals present, (0.1 * 8 + 0.1 * 8 + 0.301) / 1.2 = 1.58, above
        // the ambiguous record's (0.1 * 0.301 * 2 + 1 + 2) / 2.2 = 1.39.
        Assert.Multiple(() =>
        {
            Assert.That(without, Is.EqualTo(typical).Within(1e-9), "missing probabilities count as typical ones (p = 0.5)");
            Assert.That(without, Is.EqualTo((0.8 + 0.8 + (2 * Math.Log10(2))) / 2.2).Within(1e-9));
            Assert.That(real, Is.GreaterThan(without), "real uncertainty outranks distance alone under uncertainty");
            Assert.That(SignalCombiner.Score(farWithoutInference, RecommendationStrategy.OutOfDistribution),
                Is.EqualTo(SignalCombiner.Score(farWithTypicalProbabilities, RecommendationStrategy.OutOfDistribution)).Within(1e-9));
            Assert.That(SignalCombiner.Score(farWithoutInference, RecommendationStrategy.OutOfDistribution), Is.GreaterThan(SignalCombiner.Score(ambiguous, RecommendationStrategy.OutOfDistribution)),
                "out-of-distribution still puts the far-out record first");
        });
    }

    [Test]
    public void Score_Balanced_IsWeightedMeanOfSurprises()
    {
        var score = SignalCombiner.Score(FarButConfident, RecommendationStrategy.Balanced);

        // No probabilities: their vote counts as typical (-log10 0.5) with its weight of 1.
        Assert.That(score, Is.EqualTo((4 + 4 + 0 + Math.Log10(2)) / 4.0).Within(1e-9));
    }

    [Test]
    public void Score_FeatureNorm_CountsLikeADistanceSignal()
    {
        SignalScore[] signals = [new(SignalKind.KnnDistance, 0.3, 0.5, 1), new(SignalKind.FeatureNorm, 0.5, 1, 1e-3)];

        Assert.Multiple(() =>
        {
            // Without probabilities their vote counts as typical (p = 0.5), weighing 1 under balanced, 0.1 under out-of-distribution.
            Assert.That(SignalCombiner.Score(signals, RecommendationStrategy.Balanced), Is.EqualTo((3 + SignalCombiner.UnknownSurprise) / 3).Within(1e-9));
            Assert.That(SignalCombiner.Score(signals, RecommendationStrategy.OutOfDistribution), Is.EqualTo((3 + (0.1 * SignalCombiner.UnknownSurprise)) / 2.1).Within(1e-9));
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
