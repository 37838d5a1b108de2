using Chroma.Server.Recommendations;
using Chroma.Server.Recommendations.Scheduling;
using Chroma.Server.Storage;
using Chroma.Server.Tests.Recommendations.Data;
using NUnit.Framework;

namespace Chroma.Server.Tests.Recommendations;

public class BoundaryReliabilityTests
{
    private const int Dimension = 16;

    [Test]
    public void Factor_NeighboursWorseThanTheModel_IsTheRatioOfTheirErrorRates()
    {
        // Neighbours right 70% of the time, the model 93%, 10 classes, errors independent:
        // G = 0.93 * 0.7 + 0.07 * (0.3 / 9).
        var agreement = (0.93 * 0.7) + (0.07 * (0.3 / 9));

        Assert.That(BoundaryReliability.Factor(0.7, agreement, classes: 10), Is.EqualTo(0.07 / 0.3).Within(1e-9));
    }

    [TestCase(0.95, (0.95 * 0.95) + (0.05 * 0.05 / 9), 10, 1.0, TestName = "Factor_NeighboursAsGoodAsTheModel_IsOne")]
    [TestCase(0.9, 0.6, 2, 1.0, TestName = "Factor_ModelWorseThanTheNeighbours_IsCappedAtOne")]
    [TestCase(0.7, 0.75, 10, 0.0, TestName = "Factor_AgreementBeyondTheNeighboursAccuracy_ModelLooksFlawless_IsZero")]
    [TestCase(0.1, 0.5, 10, 0.0, TestName = "Factor_NeighboursAtChance_IsZero")]
    [TestCase(1.0, 0.9, 10, 1.0, TestName = "Factor_NeighboursWithoutAnError_IsOne")]
    [TestCase(0.7, 0.7, 1, 1.0, TestName = "Factor_OneClass_IsOne")]
    public void Factor_KnownCases(double neighborAccuracy, double agreement, int classes, double expected) =>
        Assert.That(BoundaryReliability.Factor(neighborAccuracy, agreement, classes), Is.EqualTo(expected).Within(1e-9));

    [TestCase(-0.1, 0.5)]
    [TestCase(0.5, 1.5)]
    [TestCase(double.NaN, 0.5)]
    public void Factor_ShareOutsideZeroToOne_Throws(double neighborAccuracy, double agreement) =>
        Assert.That(() => BoundaryReliability.Factor(neighborAccuracy, agreement, 10), Throws.TypeOf<ArgumentOutOfRangeException>());

    [TestCase(0.3, 3, 1.0)]
    [TestCase(0.5, 5, 0.5)]
    [TestCase(0.6, 4, 0.5)]
    [TestCase(0.8, 6, 0.0)]
    [TestCase(1.0, 5, 0.0)]
    public void Agrees_PluralityOfTheNeighbours(double disagreement, int strongestOther, double expected) =>
        Assert.That(BoundaryReliability.Agrees(new NeighborSignals(1, disagreement, 10, "x", strongestOther)), Is.EqualTo(expected));

    [Test]
    public void WithProductionShift_NeighboursMuchWorseThanTheModel_BoundaryLosesItsWeightToTheProbabilities()
    {
        // Two classes 0.8 apart in 16 dimensions: the neighbours' plurality is right about two times in three, and the
        // production records carry their true class as the prediction (a model that is always right).
        var model = FitWithProduction(separation: 0.8, flipShare: 0, out var scored);

        Assert.Multiple(() =>
        {
            Assert.That(model.NeighborAccuracy, Is.InRange(0.55, 0.85), "the neighbours are weak here");
            Assert.That(model.BoundaryFactor, Is.LessThan(0.2));
            Assert.That(scored.All(r => r.BoundaryFactor == model.BoundaryFactor), Is.True, "every record is scored with the model's factor");
            var record = scored[0];
            Assert.That(SignalCombiner.Score(record, RecommendationStrategy.Uncertainty), Is.EqualTo(ByHand(record, model.BoundaryFactor)).Within(1e-9));
        });
    }

    [Test]
    public void Score_RecordsWithoutProbabilities_KeepTheBoundarysFullWeight()
    {
        var model = FitWithProduction(separation: 0.8, flipShare: 0, out _);
        var (production, truth) = SyntheticEmbeddings.Clusters(2, 50, Dimension, 0.8, seed: 4);

        // The boundary is then the records' only uncertainty evidence: nothing would take the weight it gives up.
        var scored = RecommendationScorer.Score(model, new ProductionBatch(SyntheticEmbeddings.Ids(truth.Length), production, Dimension, truth));

        Assert.Multiple(() =>
        {
            Assert.That(model.BoundaryFactor, Is.LessThan(0.2));
            Assert.That(scored.Select(r => r.BoundaryFactor), Is.All.EqualTo(1.0));
        });
    }

    [Test]
    public void WithProductionShift_NeighboursAsGoodAsTheModel_BoundaryKeepsItsWeight()
    {
        // Classes 1.6 apart: the neighbours are right about 85% of the time, and the "model" is the truth with 15% of its
        // predictions flipped: as often wrong as the neighbours, so a disagreement is as likely the model's error.
        var model = FitWithProduction(separation: 1.6, flipShare: 0.15, out _);

        Assert.Multiple(() =>
        {
            Assert.That(model.NeighborAccuracy, Is.InRange(0.8, 0.97));
            Assert.That(model.BoundaryFactor, Is.GreaterThan(0.6));
        });
    }

    [Test]
    public void WithProductionShift_ProductionWithoutPredictedClasses_FactorStaysOne()
    {
        var (training, labels) = SyntheticEmbeddings.Clusters(2, 400, Dimension, 0.8, seed: 1);
        var data = new TrainingData(training, Dimension, labels);
        var (production, _) = SyntheticEmbeddings.Clusters(2, 300, Dimension, 0.8, seed: 2);
        var ids = SyntheticEmbeddings.Ids(600);
        ShiftSample[] sample = [.. ids.Select((id, i) => new ShiftSample(production.AsMemory(i * Dimension, Dimension), null, ProductionShiftClassifier.FoldOf(id)))];

        var model = RecommendationModel.Fit(data, "v1").WithProductionShift(data, sample, 0, ids.Length);

        Assert.That(model.BoundaryFactor, Is.EqualTo(1));
    }

    [Test]
    public void ScoreCodec_BoundaryFactorBelowOne_IsStoredAndReadBack_AndOneIsNotWritten()
    {
        var measurement = new EmbeddingMeasurement(2.5, "1", new NeighborSignals(0.3, 0.6, 10, "0", 6));
        SignalScore[] signals = [new(SignalKind.Mahalanobis, 2.5, 0.5, 0.5), new(SignalKind.Boundary, 0.6, 0.99, 0.01), new(SignalKind.Entropy, 0.2, 0.7, 0.3)];
        var weak = new ScoredRecord("r1", "v1", new float[] { 0.6f, 0.8f }, "1", measurement, null, signals) { BoundaryFactor = 0.25 };
        var full = weak with { BoundaryFactor = 1 };

        var weakRow = ScoreCodec.ToRow(5, weak);
        var restored = ScoreCodec.FromStored(new PersistedScore(new ScorableRecord(5, "r1", "production", [3, 4], "1", null), "v1", weakRow.SignalsJson, weakRow.MeasurementJson, 0));

        Assert.Multiple(() =>
        {
            Assert.That(restored.BoundaryFactor, Is.EqualTo(0.25));
            Assert.That(weakRow.Score, Is.EqualTo(SignalCombiner.Score(weak, RecommendationStrategy.Balanced)).Within(1e-12));
            Assert.That(weakRow.Score, Is.LessThan(ScoreCodec.ToRow(5, full).Score), "the boundary's surprise (2) counts for less");
            Assert.That(ScoreCodec.ToRow(5, full).SignalsJson, Does.Not.Contain("factor"), "rows stored before the factor existed look like this");
        });
    }

    [Test]
    public void Score_NoProbabilities_TheirStandInTakesTheWeightTheBoundaryGivesUp()
    {
        SignalScore[] signals = [new(SignalKind.Mahalanobis, 1, 0.9, 0.1), new(SignalKind.Boundary, 0.6, 0.99, 0.01)];

        // Uncertainty: distance 0.1, boundary 1 * f, the p = 0.5 stand-in 2 - f.
        var expected = ((0.1 * 1) + (0.25 * 2) + (1.75 * SignalCombiner.UnknownSurprise)) / (0.1 + 0.25 + 1.75);

        Assert.That(SignalCombiner.Score(signals, RecommendationStrategy.Uncertainty, boundaryFactor: 0.25), Is.EqualTo(expected).Within(1e-12));
    }

    // The uncertainty score as the proto documents it, with each signal's weight times its weight factor.
    private static double ByHand(ScoredRecord record, double f)
    {
        double weighted = 0, total = 0;
        foreach (var s in record.Signals)
        {
            var w = s.Kind switch
            {
                SignalKind.Boundary => f,
                SignalKind.Entropy or SignalKind.Margin or SignalKind.LeastConfidence => (2 - f) / 3,
                _ => 0.1,
            };
            weighted += w * s.Surprise;
            total += w;
        }

        return weighted / total;
    }

    private static RecommendationModel FitWithProduction(double separation, double flipShare, out ScoredRecord[] scored)
    {
        var (training, labels) = SyntheticEmbeddings.Clusters(2, 400, Dimension, separation, seed: 1);
        var data = new TrainingData(training, Dimension, labels);
        var (production, truth) = SyntheticEmbeddings.Clusters(2, 300, Dimension, separation, seed: 2);
        var random = new Random(3);
        string[] predicted = [.. truth.Select(t => random.NextDouble() < flipShare ? (t == "0" ? "1" : "0") : t)];
        var ids = SyntheticEmbeddings.Ids(predicted.Length);
        var probabilities = predicted.Select(p => p == "0" ? new float[] { 0.8f, 0.2f } : new float[] { 0.2f, 0.8f }).ToArray();
        ShiftSample[] sample = [.. ids.Select((id, i) => new ShiftSample(production.AsMemory(i * Dimension, Dimension), probabilities[i], ProductionShiftClassifier.FoldOf(id), predicted[i]))];
        var model = RecommendationModel.Fit(data, "v1").WithProductionShift(data, sample, 0, ids.Length);
        scored = RecommendationScorer.Score(model, new ProductionBatch(ids, production, Dimension, predicted, probabilities));
        return model;
    }
}
