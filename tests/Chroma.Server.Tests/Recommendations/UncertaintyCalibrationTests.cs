using Chroma.Server.Recommendations;
using Chroma.Server.Tests.Recommendations.Data;
using NUnit.Framework;

namespace Chroma.Server.Tests.Recommendations;

/// <summary>The probability signals calibrated like the others: empirical p against held-out training records.</summary>
public class UncertaintyCalibrationTests
{
    private const int Dimension = 4;
    private const int PerClass = 200;

    [Test]
    public void Score_TrainingWithProbabilities_ProbabilitySignalsGetEmpiricalPValues()
    {
        // Known answer: training top-class probabilities spread evenly over 0.60..0.99 (two classes),
        // so least confidence 1 - p1 is uniform on 0.01..0.40 in the held-out slice too.
        var model = Fit(withProbabilities: true);
        var heldOut = model.HeldOutCount;

        var scored = Score(model, [0.80f, 0.20f], [0.59f, 0.41f], [0.5f, 0.5f]);

        var middle = Get(scored[0], SignalKind.LeastConfidence);
        Assert.That(middle.Value, Is.EqualTo(0.2).Within(1e-6));
        Assert.That(middle.PValue, Is.EqualTo(0.5).Within(0.08), "half the training records are less confident than p1 = 0.8");
        Assert.That(middle.Percentile, Is.EqualTo(0.5).Within(0.08));
        var beyond = Get(scored[1], SignalKind.LeastConfidence);
        Assert.That(beyond.PValue, Is.LessThan(1.0 / (heldOut + 1)), "less confident than every held-out record: the tail");
        var bound = Get(scored[2], SignalKind.LeastConfidence);
        Assert.That(bound.PValue, Is.GreaterThanOrEqualTo(0.999e-3 / (heldOut + 1)), "at the signal's bound p falls at most a thousandfold below 1/(N+1)");
        Assert.That(bound.PValue, Is.LessThan(beyond.PValue));
        Assert.That(scored.Select(r => Get(r, SignalKind.Entropy).PValue), Is.Ordered.Descending);
        Assert.That(scored.Select(r => Get(r, SignalKind.Margin).PValue), Is.Ordered.Descending);
    }

    [Test]
    public void Score_TrainingWithoutProbabilities_FallsBackToOneMinusTheNormalisedValue()
    {
        var model = Fit(withProbabilities: false);

        var scored = Score(model, [0.80f, 0.20f]);

        var leastConfidence = Get(scored[0], SignalKind.LeastConfidence);
        Assert.That(model.UncertaintyCalibratorFor(SignalKind.LeastConfidence), Is.Null);
        Assert.That(leastConfidence.Percentile, Is.EqualTo(0.4).Within(1e-6), "(1 - 0.8) * 2 / (2 - 1)");
        Assert.That(leastConfidence.PValue, Is.EqualTo(0.6).Within(1e-6));
    }

    [Test]
    public void Calibrator_AllHeldOutValuesEqualWithAnUpperBound_TailStillRanksBeyondTheMaximum()
    {
        // A model that is certain on every training record: entropy 0 everywhere.
        var calibrator = new EmpiricalCalibrator(Enumerable.Repeat(0.0, 99), upperBound: Math.Log(10));

        var small = calibrator.PValue(0.1);
        var large = calibrator.PValue(1.0);

        Assert.That(small, Is.LessThan(0.01));
        Assert.That(large, Is.LessThan(small));
        Assert.That(calibrator.PValue(Math.Log(10)), Is.EqualTo(1e-3 / 100).Within(1e-9));
    }

    private static SignalScore Get(ScoredRecord record, SignalKind kind) =>
        record.Signal(kind) ?? throw new InvalidOperationException($"{record.Id} has no {kind} signal");

    private static RecommendationModel Fit(bool withProbabilities)
    {
        var (embeddings, labels) = SyntheticEmbeddings.Clusters(2, PerClass, Dimension, 6, seed: 41);
        var probabilities = new float[]?[labels.Length];
        for (var i = 0; i < labels.Length; i++)
        {
            // Deterministic spread of p1 over 0.60..0.99 within each class.
            var top = 0.60f + (0.39f * (i % PerClass) / (PerClass - 1));
            probabilities[i] = labels[i] == "0" ? [top, 1 - top] : [1 - top, top];
        }

        var training = new TrainingData(embeddings, Dimension, labels) { Probabilities = withProbabilities ? probabilities : null };
        return RecommendationModel.Fit(training, "v1");
    }

    private static ScoredRecord[] Score(RecommendationModel model, params float[][] probabilities)
    {
        var embeddings = probabilities.SelectMany(_ => SyntheticEmbeddings.Axis(Dimension, 0, 6)).ToArray();
        var batch = new ProductionBatch(
            SyntheticEmbeddings.Ids(probabilities.Length), embeddings, Dimension, Enumerable.Repeat<string?>("0", probabilities.Length).ToArray(), probabilities);
        return RecommendationScorer.Score(model, batch);
    }
}
