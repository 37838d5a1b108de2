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
            Assert.That(without, Is.EqualTo((0.3 + 0.3 + (2 * Math.Log10(2))) / 2.2).Within(1e-9), "each distance surprise counts at most 3");
            Assert.That(real, Is.GreaterThan(without), "real uncertainty outranks distance alone under uncertainty");
            Assert.That(SignalCombiner.Score(farWithoutInference, RecommendationStrategy.OutOfDistribution),
                Is.EqualTo(SignalCombiner.Score(farWithTypicalProbabilities, RecommendationStrategy.OutOfDistribution)).Within(1e-9));
            Assert.That(SignalCombiner.Score(farWithoutInference, RecommendationStrategy.OutOfDistribution), Is.GreaterThan(SignalCombiner.Score(ambiguous, RecommendationStrategy.OutOfDistribution)),
                "out-of-distribution still puts the far-out record first");
        });
    }

    [Test]
    public void Score_Uncertainty_FarOutButConfidentRecord_DoesNotOutrankAnAmbiguousOne()
    {
        // Probe Y, Y4: an input far beyond the training data on which the model stays right (p = 0 on Mahalanobis, the
        // production-shift classifier sure of it) against an ambiguous input near the training data, whose probability
        // signals are as surprising as their calibration allows (p about 1 in 500).
        SignalScore[] farConfident =
        [
            new(SignalKind.Mahalanobis, 900, 1, 1e-40), new(SignalKind.RelativeMahalanobis, 300, 1, 1e-20), new(SignalKind.KnnDistance, 9, 1, 1e-12),
            new(SignalKind.FeatureNorm, 4, 1, 1e-6), new(SignalKind.ProductionShift, 5, 1, 1e-6), new(SignalKind.Boundary, 0, 0.5, 0.5),
            new(SignalKind.Entropy, 0.01, 0.3, 0.7), new(SignalKind.Margin, 0.99, 0.3, 0.7), new(SignalKind.LeastConfidence, 0.01, 0.3, 0.7),
        ];
        SignalScore[] ambiguous =
        [
            new(SignalKind.Mahalanobis, 2, 0.5, 0.5), new(SignalKind.RelativeMahalanobis, 1, 0.5, 0.5), new(SignalKind.KnnDistance, 0.3, 0.5, 0.5),
            new(SignalKind.FeatureNorm, 1, 0.5, 0.5), new(SignalKind.ProductionShift, 0, 0.5, 0.5), new(SignalKind.Boundary, 0.3, 0.9, 0.1),
            new(SignalKind.Entropy, 0.69, 0.998, 0.002), new(SignalKind.Margin, 0.02, 0.998, 0.002), new(SignalKind.LeastConfidence, 0.49, 0.998, 0.002),
        ];

        var far = SignalCombiner.Score(farConfident, RecommendationStrategy.Uncertainty);
        var near = SignalCombiner.Score(ambiguous, RecommendationStrategy.Uncertainty);

        // Uncapped, the far record scored (0.1 * (40 + 20 + 12 + 6 + 6) + 0.3 + 0.155) / 2.5 = 3.54 against 1.46.
        Assert.Multiple(() =>
        {
            Assert.That(far, Is.EqualTo(((0.1 * 15) + 0.301 + (0.155 * 1)) / 2.5).Within(1e-3), "each of the five distance surprises counts 3");
            Assert.That(near, Is.GreaterThan(far), "the ambiguous prediction comes first under uncertainty");
            Assert.That(SignalCombiner.Score(farConfident, RecommendationStrategy.OutOfDistribution),
                Is.GreaterThan(SignalCombiner.Score(ambiguous, RecommendationStrategy.OutOfDistribution)), "out-of-distribution is not capped");
            Assert.That(SignalCombiner.Score(farConfident, RecommendationStrategy.Balanced), Is.GreaterThan(10), "nor is balanced");
        });
    }

    [Test]
    public void Score_Uncertainty_BoundaryOfARecordFarFromItsNeighbours_CountsAtMostAsTypical()
    {
        // Probe Y, Y4: a new cluster the model labels right; its training neighbours are far and of mixed classes, so
        // the boundary signal read it as ambiguous (p = 0.001).
        SignalScore[] Record(double knnP) =>
        [
            new(SignalKind.KnnDistance, 9, 1, knnP), new(SignalKind.Boundary, 0.6, 0.999, 1e-3),
            new(SignalKind.Entropy, 0.01, 0.3, 0.7), new(SignalKind.Margin, 0.99, 0.3, 0.7), new(SignalKind.LeastConfidence, 0.01, 0.3, 0.7),
        ];

        var far = SignalCombiner.Score(Record(1e-6), RecommendationStrategy.Uncertainty);
        var near = SignalCombiner.Score(Record(1e-2), RecommendationStrategy.Uncertainty);

        Assert.Multiple(() =>
        {
            Assert.That(far, Is.EqualTo(((0.1 * 3) + Math.Log10(2) + 0.155) / 2.1).Within(1e-3), "boundary counts p = 0.5 beyond 3 on kNN distance");
            Assert.That(near, Is.EqualTo(((0.1 * 2) + 3 + 0.155) / 2.1).Within(1e-3), "within it, its own p");
            Assert.That(SignalCombiner.Score(Record(1e-6), RecommendationStrategy.Balanced),
                Is.EqualTo((6 + 3 + 0.155) / 3).Within(1e-3), "balanced keeps the boundary (and the distance) as they are");
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

    // Every signal typical (p = 0.5) but the production-shift signal: p = 1e-6, surprise 6.
    private static readonly SignalScore[] ShiftedForTheClassifierOnly =
    [
        new(SignalKind.Mahalanobis, 2, 0.5, 0.5), new(SignalKind.RelativeMahalanobis, 0.1, 0.5, 0.5), new(SignalKind.KnnDistance, 0.3, 0.5, 0.5),
        new(SignalKind.FeatureNorm, 0, 0.5, 0.5), new(SignalKind.ProductionShift, 4.2, 1 - 1e-6, 1e-6), new(SignalKind.Boundary, 0.1, 0.5, 0.5),
        new(SignalKind.Entropy, 0.3, 0.5, 0.5), new(SignalKind.Margin, 0.6, 0.5, 0.5), new(SignalKind.LeastConfidence, 0.2, 0.5, 0.5),
    ];

    [Test]
    public void Score_ProductionShiftAboveTheFloor_BalancedTakesTheRampsShareOfTheExcessOutOfDistributionAllOfItUncertaintyNone()
    {
        var half = Math.Log10(2);

        // Weights: balanced 4 distance + 1 shift + 1 boundary + 3 x 1/3 probability = 7; out-of-distribution 5 + 0.1 + 0.1.
        var balancedMean = ((6 * half) + 6) / 7;
        var outOfDistributionMean = ((4 * half) + 6 + (0.2 * half)) / 5.2;
        Assert.Multiple(() =>
        {
            Assert.That(SignalCombiner.WeightedMean(ShiftedForTheClassifierOnly, RecommendationStrategy.Balanced), Is.EqualTo(balancedMean).Within(1e-9));
            // The lead surprise against the stream's bulk (here 6, as the signal's own) beyond both the mean and the floor
            // of 1 (one in ten): balanced (1 - 10^(1 - 6))^2 of the excess, out-of-distribution all of it. Both means
            // (1.12, 1.40) are above the floor.
            Assert.That(balancedMean, Is.GreaterThan(SignalCombiner.ShiftLeadFloor));
            Assert.That(SignalCombiner.Score(ShiftedForTheClassifierOnly, RecommendationStrategy.Balanced, shiftLeadSurprise: 6), Is.EqualTo(balancedMean + (0.99998 * (6 - balancedMean))).Within(1e-6));
            Assert.That(SignalCombiner.WeightedMean(ShiftedForTheClassifierOnly, RecommendationStrategy.OutOfDistribution), Is.EqualTo(outOfDistributionMean).Within(1e-9));
            Assert.That(SignalCombiner.Score(ShiftedForTheClassifierOnly, RecommendationStrategy.OutOfDistribution, shiftLeadSurprise: 6), Is.EqualTo(6).Within(1e-9));
            // A lead surprise against the bulk of 3 leads instead of the signal's own 6, by (1 - 1/100)^2 = 0.9801 of the
            // excess; one below the mean adds nothing.
            Assert.That(SignalCombiner.Score(ShiftedForTheClassifierOnly, RecommendationStrategy.Balanced, shiftLeadSurprise: 3), Is.EqualTo(balancedMean + (0.9801 * (3 - balancedMean))).Within(1e-9));
            Assert.That(SignalCombiner.Score(ShiftedForTheClassifierOnly, RecommendationStrategy.Balanced, shiftLeadSurprise: 0.5), Is.EqualTo(balancedMean).Within(1e-12), "below the mean and the floor");
            // Without one (a record stored before it was measured): the rule it was scored under, its own surprise from 2.
            Assert.That(SignalCombiner.Score(ShiftedForTheClassifierOnly, RecommendationStrategy.Balanced), Is.EqualTo(balancedMean + (0.5 * (6 - 2))).Within(1e-9));
            Assert.That(SignalCombiner.Score(ShiftedForTheClassifierOnly, RecommendationStrategy.OutOfDistribution), Is.EqualTo(outOfDistributionMean + (6 - 2)).Within(1e-9));
            Assert.That(SignalCombiner.Score(ShiftedForTheClassifierOnly, RecommendationStrategy.Uncertainty),
                Is.EqualTo(SignalCombiner.WeightedMean(ShiftedForTheClassifierOnly, RecommendationStrategy.Uncertainty)).Within(1e-12));
        });
    }

    [Test]
    public void ShiftLead_Balanced_RampsFromZeroAtTheFloorTowardsOneOutOfDistributionIsOneOthersZero()
    {
        Assert.Multiple(() =>
        {
            // (1 - 10^(1 - s))^2: 0 up to one in ten of the bulk, (1 - 1/2)^2 at one in twenty, 0.81 at one in a hundred.
            Assert.That(SignalCombiner.ShiftLead(RecommendationStrategy.Balanced, 0.5), Is.Zero);
            Assert.That(SignalCombiner.ShiftLead(RecommendationStrategy.Balanced, SignalCombiner.ShiftLeadFloor), Is.Zero);
            Assert.That(SignalCombiner.ShiftLead(RecommendationStrategy.Balanced, Math.Log10(20)), Is.EqualTo(0.25).Within(1e-12));
            Assert.That(SignalCombiner.ShiftLead(RecommendationStrategy.Balanced, 2), Is.EqualTo(0.81).Within(1e-12));
            Assert.That(SignalCombiner.ShiftLead(RecommendationStrategy.Balanced, 4), Is.EqualTo(0.998001).Within(1e-12));
            Assert.That(SignalCombiner.ShiftLead(RecommendationStrategy.Balanced, double.NaN), Is.Zero, "no lead surprise");
            Assert.That(SignalCombiner.ShiftLead(RecommendationStrategy.OutOfDistribution, 1.5), Is.EqualTo(1));
            Assert.That(SignalCombiner.ShiftLead(RecommendationStrategy.Uncertainty, 5), Is.Zero);
            Assert.That(SignalCombiner.ShiftLead(RecommendationStrategy.Labeling, 5), Is.Zero);

            // Rising with the evidence, the score never falls as the lead surprise grows (here from a mean below the floor).
            SignalScore[] typical = [new(SignalKind.Mahalanobis, 2, 0.5, 0.5), new(SignalKind.ProductionShift, 1, 0.9, 0.1), new(SignalKind.Boundary, 0.1, 0.5, 0.5)];
            var scores = Enumerable.Range(0, 61).Select(i => SignalCombiner.Score(typical, RecommendationStrategy.Balanced, i / 10.0)).ToArray();
            Assert.That(scores, Is.Ordered);
            Assert.That(scores[10], Is.EqualTo(SignalCombiner.WeightedMean(typical, RecommendationStrategy.Balanced)).Within(1e-12), "continuous at the floor");
            var mean = SignalCombiner.WeightedMean(typical, RecommendationStrategy.Balanced);
            Assert.That(scores[60], Is.EqualTo(mean + (0.99998 * (6 - SignalCombiner.ShiftLeadFloor))).Within(1e-6), "nearly all of the excess over the floor, far beyond the bulk");
        });
    }

    [Test]
    public void Score_ProductionShiftBelowTheMean_IsTheWeightedMean()
    {
        // Far out on the distances (surprise 8), the production-shift signal at 1 in 10.
        SignalScore[] far = [new(SignalKind.Mahalanobis, 90, 1, 1e-8), new(SignalKind.KnnDistance, 9, 1, 1e-8), new(SignalKind.ProductionShift, 1, 0.9, 0.1), new(SignalKind.Boundary, 0.1, 0.5, 0.5)];

        Assert.Multiple(() =>
        {
            foreach (var strategy in new[] { RecommendationStrategy.Balanced, RecommendationStrategy.OutOfDistribution, RecommendationStrategy.Uncertainty })
            {
                Assert.That(SignalCombiner.Score(far, strategy), Is.EqualTo(SignalCombiner.WeightedMean(far, strategy)).Within(1e-12), strategy.ToString());
            }
        });
    }

    [Test]
    public void Score_ProductionShiftAboveTheMeanBelowTheFloor_IsTheWeightedMean()
    {
        // Typical everywhere (p = 0.5) but the classifier, at one in 8 (surprise 0.90): above the mean, below the floor.
        SignalScore[] signals = [new(SignalKind.Mahalanobis, 2, 0.5, 0.5), new(SignalKind.KnnDistance, 0.3, 0.5, 0.5), new(SignalKind.ProductionShift, 1, 1 - (1 / 8.0), 1 / 8.0), new(SignalKind.Boundary, 0.1, 0.5, 0.5)];

        Assert.Multiple(() =>
        {
            Assert.That(SignalCombiner.ShiftLeadFloor, Is.EqualTo(1), "one in ten");
            Assert.That(SignalCombiner.TrainingShiftLeadFloor, Is.EqualTo(2), "one in a hundred");
            foreach (var strategy in new[] { RecommendationStrategy.Balanced, RecommendationStrategy.OutOfDistribution })
            {
                Assert.That(SignalCombiner.WeightedMean(signals, strategy), Is.LessThan(Math.Log10(8)), strategy.ToString());
                Assert.That(SignalCombiner.Score(signals, strategy, shiftLeadSurprise: Math.Log10(8)), Is.EqualTo(SignalCombiner.WeightedMean(signals, strategy)).Within(1e-12), strategy.ToString());
                Assert.That(SignalCombiner.Score(signals, strategy), Is.EqualTo(SignalCombiner.WeightedMean(signals, strategy)).Within(1e-12), strategy.ToString());
            }
        });
    }

    [Test]
    public void Score_ShiftLead_PutsARecordOnlyTheClassifierFindsAboveAModeratelyFarOne()
    {
        // A normal-looking record that only the production-shift classifier finds (surprise 6) against one at one in a
        // hundred on every distance signal and typical elsewhere, which the classifier finds ordinary (p = 0.5).
        SignalScore[] moderatelyFar =
        [
            new(SignalKind.Mahalanobis, 5, 0.99, 0.01), new(SignalKind.RelativeMahalanobis, 3, 0.99, 0.01), new(SignalKind.KnnDistance, 0.9, 0.99, 0.01),
            new(SignalKind.FeatureNorm, 0.2, 0.99, 0.01), new(SignalKind.ProductionShift, 0, 0.5, 0.5), new(SignalKind.Boundary, 0.1, 0.5, 0.5),
            new(SignalKind.Entropy, 0.3, 0.5, 0.5), new(SignalKind.Margin, 0.6, 0.5, 0.5), new(SignalKind.LeastConfidence, 0.2, 0.5, 0.5),
        ];

        Assert.Multiple(() =>
        {
            // The mean alone: 1.27 against 1.12 (balanced), so the classifier's one vote is outvoted; led (lead surprises
            // against the bulk as the signals' own, 6 and 0.30): 1.27 against 3.56; out-of-distribution 1.61 against 6.
            Assert.That(SignalCombiner.WeightedMean(moderatelyFar, RecommendationStrategy.Balanced),
                Is.GreaterThan(SignalCombiner.WeightedMean(ShiftedForTheClassifierOnly, RecommendationStrategy.Balanced)));
            Assert.That(SignalCombiner.Score(ShiftedForTheClassifierOnly, RecommendationStrategy.Balanced, 6),
                Is.GreaterThan(SignalCombiner.Score(moderatelyFar, RecommendationStrategy.Balanced, Math.Log10(2))));
            Assert.That(SignalCombiner.Score(ShiftedForTheClassifierOnly, RecommendationStrategy.OutOfDistribution, 6),
                Is.GreaterThan(SignalCombiner.Score(moderatelyFar, RecommendationStrategy.OutOfDistribution, Math.Log10(2))));
        });
    }

    [Test]
    public void WeightedMean_Labeling_IsRefusedNamingWhy()
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => SignalCombiner.WeightedMean(NearButAmbiguous, RecommendationStrategy.Labeling));
        Assert.That(error!.Message, Does.Contain("labeling score is not a weighted mean"));
    }

    [Test]
    public void Score_NoSignals_IsZero()
    {
        Assert.That(SignalCombiner.Score([], RecommendationStrategy.Balanced), Is.Zero);
    }
}
