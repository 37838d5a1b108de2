using Chroma.Server.Recommendations;
using NUnit.Framework;

namespace Chroma.Server.Tests.Recommendations;

public class ReasonWriterTests
{
    [Test]
    public void Write_FarAndDisagreeing_ListsMostImportantFirst()
    {
        var record = Record(
            new NeighborSignals(1.1, 0.6, 10, "4", 6),
            null,
            new(SignalKind.Mahalanobis, 40, 1, 1e-5),
            new(SignalKind.KnnDistance, 1.1, 0.97, 0.03),
            new(SignalKind.Boundary, 0.6, 0.99, 0.01));

        var reasons = ReasonWriter.Write(record, RecommendationStrategy.Balanced);

        Assert.That(reasons, Is.EqualTo(new[]
        {
            "far from all training classes (Mahalanobis p < 0.001; nearest class 7)",
            "neighbours disagree: 6 of 10 are class 4",
            "far from its 10 nearest training neighbours (kNN distance p = 0.03)",
        }));
    }

    [Test]
    public void Write_UncertaintyStrategyWithLowConfidence_PutsProbabilityReasonsFirst()
    {
        var uncertainty = PredictionUncertainty.From([0.41f, 0.38f, 0.21f]);
        var record = Record(
            new NeighborSignals(0.2, 0, 10, null, 0),
            uncertainty,
            new(SignalKind.Mahalanobis, 40, 1, 0.01),
            new(SignalKind.KnnDistance, 0.2, 0.3, 0.7),
            new(SignalKind.Boundary, 0, 0, 1),
            new(SignalKind.Entropy, uncertainty.Entropy, uncertainty.NormalizedEntropy, 1 - uncertainty.NormalizedEntropy),
            new(SignalKind.Margin, uncertainty.Margin, uncertainty.Margin, 1 - uncertainty.Margin),
            new(SignalKind.LeastConfidence, uncertainty.LeastConfidence, uncertainty.NormalizedLeastConfidence, 1 - uncertainty.NormalizedLeastConfidence));

        var reasons = ReasonWriter.Write(record, RecommendationStrategy.Uncertainty);

        Assert.That(reasons[0], Is.EqualTo("small margin: top two classes 0.41 vs 0.38 (p = 0.03)"));
        Assert.That(reasons, Does.Contain("low confidence: top class 0.41"));
        Assert.That(reasons[^1], Does.StartWith("far from all training classes (Mahalanobis p = 0.01"));
    }

    [Test]
    public void Write_UncertaintyStrategyFarOutRecord_OrdersReasonsByWhatTheyAddToTheScore()
    {
        // Under uncertainty a distance surprise counts at most 3 (SignalCombiner.UncertaintyDistanceCap): a Mahalanobis
        // p of 1e-40 adds 0.1 * 3, less than the probability signals' evidence, so it no longer leads the reasons.
        var uncertainty = PredictionUncertainty.From([0.41f, 0.38f, 0.21f]);
        var record = Record(
            new NeighborSignals(0.2, 0, 10, null, 0),
            uncertainty,
            new(SignalKind.Mahalanobis, 400, 1, 1e-40),
            new(SignalKind.Boundary, 0, 0, 1),
            new(SignalKind.Entropy, uncertainty.Entropy, 0.99, 0.01),
            new(SignalKind.Margin, uncertainty.Margin, 0.99, 0.01),
            new(SignalKind.LeastConfidence, uncertainty.LeastConfidence, 0.99, 0.01));

        var reasons = ReasonWriter.Write(record, RecommendationStrategy.Uncertainty);

        Assert.Multiple(() =>
        {
            Assert.That(reasons[0], Does.StartWith("high entropy").Or.StartWith("small margin").Or.StartWith("low confidence"));
            Assert.That(reasons[^1], Does.StartWith("far from all training classes (Mahalanobis p < 0.001"));
            Assert.That(ReasonWriter.Write(record, RecommendationStrategy.Balanced)[0], Does.StartWith("far from all training classes"), "balanced is not capped");
        });
    }

    [Test]
    public void Write_ConfidentPrediction_GetsAProbabilityReasonOnlyWhereItIsEvidence()
    {
        // Probe Y, Y5: a model fully confident on its training rows; its calibrated percentile put "small margin: top
        // two classes 1.00 vs 0.00" among the reasons at p = 0.38.
        var confident = PredictionUncertainty.From([0.9993f, 0.0007f, 0f]);
        SignalScore[] Signals(double p) =>
        [
            new(SignalKind.Mahalanobis, 40, 1, 1e-5),
            new(SignalKind.Boundary, 0, 0, 1),
            new(SignalKind.Entropy, confident.Entropy, 0.9, p),
            new(SignalKind.Margin, confident.Margin, 0.9, p),
            new(SignalKind.LeastConfidence, confident.LeastConfidence, 0.9, p),
        ];

        var ordinary = ReasonWriter.Write(Record(new NeighborSignals(0.2, 0, 10, null, 0), confident, Signals(0.38)), RecommendationStrategy.Balanced);
        var evidence = ReasonWriter.Write(Record(new NeighborSignals(0.2, 0, 10, null, 0), confident, Signals(0.01)), RecommendationStrategy.Balanced);

        Assert.Multiple(() =>
        {
            Assert.That(ordinary, Is.EqualTo(new[] { "far from all training classes (Mahalanobis p < 0.001; nearest class 7)" }));
            Assert.That(evidence, Does.Contain("small margin: top two classes 0.9993 vs 0.0007 (p = 0.01)"));
            Assert.That(evidence, Does.Contain("low confidence: top class 0.9993 (p = 0.01)"));
        });
    }

    [Test]
    public void Write_NothingNotable_StillNamesStrongestSignal()
    {
        var record = Record(
            new NeighborSignals(0.2, 0.1, 10, "2", 1),
            null,
            new(SignalKind.Mahalanobis, 1, 0.4, 0.6),
            new(SignalKind.KnnDistance, 0.2, 0.7, 0.3),
            new(SignalKind.Boundary, 0.1, 0.8, 0.2));

        var reasons = ReasonWriter.Write(record, RecommendationStrategy.Balanced);

        Assert.That(reasons, Has.Count.EqualTo(1));
        Assert.That(reasons[0], Is.EqualTo("nothing stands out; strongest signal: neighbours disagree: 1 of 10 are class 2"));
    }

    private static ScoredRecord Record(NeighborSignals neighbors, PredictionUncertainty? uncertainty, params SignalScore[] signals) =>
        new("r1", "v1", new float[] { 1, 0 }, "3", new EmbeddingMeasurement(signals[0].Value, "7", neighbors), uncertainty, signals);
}
