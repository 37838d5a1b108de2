using System.Globalization;
using Chroma.Server.Recommendations;
using Chroma.Server.Tests.Recommendations.Data;
using NUnit.Framework;

namespace Chroma.Server.Tests.Recommendations;

/// <summary>
/// The boundary signal's p-value under no shift: held-out training records are measured against the model's prediction
/// for them, as production records are, so a stationary stream's boundary p-values are not piled up at 1/(N+1) for
/// every record the model gets wrong.
/// </summary>
public class BoundaryCalibrationTests
{
    private const int Dimension = 16;
    private const int Classes = 4;

    // The "model" is the truth with this share of its predictions moved to another class at random, on training and
    // production records alike: a stationary stream, no shift.
    private const double ErrorRate = 0.2;

    [TestCase(true, TestName = "Score_StationaryStream_TrainingWithProbabilities_BoundaryPValuesAreNotTooSmall")]
    [TestCase(false, TestName = "Score_StationaryStream_TrainingWithPredictedClasses_BoundaryPValuesAreNotTooSmall")]
    public void Score_StationaryStream_BoundaryPValuesAreNotTooSmall(bool probabilitiesOnly)
    {
        // Classes 3.5 apart in 16 dimensions: the neighbours are nearly always right, so a record's boundary signal is
        // high about when the model errs, as often on the held-out training records as in production. Main calibrated on
        // the labels: 20% of the stream got p = 1/(N+1).
        var (model, p, wrong) = FitAndScore(probabilitiesOnly ? Carry.Probabilities : Carry.PredictedClasses);

        Assert.Multiple(() =>
        {
            Assert.That(wrong.Count(w => w) / (double)wrong.Length, Is.EqualTo(ErrorRate).Within(0.04), "the stream's error rate");
            Assert.That(p.Count(v => v < 0.05) / (double)p.Length, Is.EqualTo(0.05).Within(0.05), "share with p < 0.05");
            Assert.That(p.Count(v => v < 0.01) / (double)p.Length, Is.LessThanOrEqualTo(0.02), "share with p < 0.01");
            Assert.That(Median(p.Where((_, i) => wrong[i])), Is.GreaterThan(0.1), "a model error is as common as on the held-out records");
            Assert.That(model.NeighborAccuracy, Is.GreaterThan(0.9), "the neighbours' accuracy is still taken against the labels, not the flipped predictions");
        });
    }

    [TestCase(false, TestName = "Score_StationaryStream_TrainingWithoutPredictions_HeldOutLabelsStandIn_EveryModelErrorIsInTheTail")]
    [TestCase(true, TestName = "Score_StationaryStream_TrainingProbabilitiesNamingNoTrainingClass_HeldOutLabelsStandIn")]
    public void Score_StationaryStream_HeldOutLabelsStandIn_EveryModelErrorIsInTheTail(bool misnamedProbabilities)
    {
        // Without the model's predictions for the training records the held-out records are measured against their
        // labels: the null distribution holds only the neighbours' errors, so p also reflects the model's own errors.
        // Probabilities whose largest is named by an index that is no training class (a class order the labels do not
        // follow) are not trusted either.
        var (model, p, wrong) = FitAndScore(misnamedProbabilities ? Carry.MisnamedProbabilities : Carry.Nothing);

        Assert.Multiple(() =>
        {
            Assert.That(p.Where((_, i) => wrong[i]).Count(v => v < 0.05) / (double)wrong.Count(w => w), Is.GreaterThan(0.9));
            Assert.That(model.NeighborAccuracy, Is.GreaterThan(0.9));
        });
    }

    [Test]
    public void PredictedClass_EntryFirst_ThenProbabilitiesLargestByIndex_ElseNull()
    {
        var data = new TrainingData(new float[4], 1, ["a", "b", "c", "d"])
        {
            Probabilities = [[0.1f, 0.9f], [0.6f, 0.4f], null, [-1f, 2f]],
            PredictedClasses = ["x", null, null, string.Empty],
        };

        Assert.Multiple(() =>
        {
            Assert.That(data.PredictedClass(0), Is.EqualTo("x"));
            Assert.That(data.PredictedClass(1), Is.EqualTo("0"));
            Assert.That(data.PredictedClass(2), Is.Null);
            Assert.That(data.PredictedClass(3), Is.Null, "probabilities with a negative value name no class");
            Assert.That(ArgMaxClass.Of([0.2f, 0.5f, 0.3f], ["cat", "dog", "owl"]), Is.EqualTo("dog"));
            Assert.That(ArgMaxClass.Of([0.5f, 0.5f], ["cat"]), Is.EqualTo("cat"), "the first on ties");
            Assert.That(ArgMaxClass.Of([0.1f, 0.9f], ["cat"]), Is.EqualTo("1"), "an index the names do not cover is named by its number");
        });
    }

    private enum Carry
    {
        Nothing,
        Probabilities,
        PredictedClasses,
        MisnamedProbabilities,
    }

    private static (RecommendationModel Model, double[] PValues, bool[] Wrong) FitAndScore(Carry carry)
    {
        var (training, labels) = SyntheticEmbeddings.Clusters(Classes, 400, Dimension, 3.5, seed: 11);
        var trainingPredicted = Predict(labels, seed: 12);
        var data = new TrainingData(training, Dimension, labels)
        {
            Probabilities = carry switch
            {
                Carry.Probabilities => [.. trainingPredicted.Select(Probabilities)],
                Carry.MisnamedProbabilities => [.. trainingPredicted.Select(p => (float[])[.. new float[Classes], .. Probabilities(p)])],
                _ => null,
            },
            PredictedClasses = carry == Carry.PredictedClasses ? trainingPredicted : null,
        };
        var model = RecommendationModel.Fit(data, "v1");

        var (production, truth) = SyntheticEmbeddings.Clusters(Classes, 250, Dimension, 3.5, seed: 13);
        var predicted = Predict(truth, seed: 14);
        var scored = RecommendationScorer.Score(
            model, new ProductionBatch(SyntheticEmbeddings.Ids(truth.Length), production, Dimension, predicted, [.. predicted.Select(Probabilities)]));
        return (model, [.. scored.Select(r => r.Signal(SignalKind.Boundary)!.Value.PValue)], [.. truth.Select((t, i) => t != predicted[i])]);
    }

    private static string[] Predict(string[] truth, int seed)
    {
        var random = new Random(seed);
        return [.. truth.Select(t => random.NextDouble() < ErrorRate
            ? ((int.Parse(t, CultureInfo.InvariantCulture) + 1 + random.Next(Classes - 1)) % Classes).ToString(CultureInfo.InvariantCulture)
            : t)];
    }

    // The predicted class gets 0.7, every other 0.1: its largest, named by index, is the prediction.
    private static float[] Probabilities(string predicted) =>
        [.. Enumerable.Range(0, Classes).Select(c => c.ToString(CultureInfo.InvariantCulture) == predicted ? 0.7f : 0.1f)];

    private static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted[sorted.Length / 2];
    }
}
