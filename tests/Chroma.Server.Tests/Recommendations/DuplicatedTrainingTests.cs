using Chroma.Server.Recommendations;
using Chroma.Server.Tests.Recommendations.Data;
using NUnit.Framework;

namespace Chroma.Server.Tests.Recommendations;

/// <summary>
/// Training data that holds each record several times (a capture that logs the training rows every epoch): the
/// calibration holds out copies together, so a production stream drawn like the training data stays unremarkable.
/// </summary>
public class DuplicatedTrainingTests
{
    private const int Classes = 4;
    private const int Copies = 5;

    [TestCase(48, 500, 0.15, 0.0, TestName = "Score_TrainingRowsLoggedFiveTimes_DistanceSignalsStayCalibrated")]
    [TestCase(48, 500, 0.15, 0.01, TestName = "Score_TrainingRowsLoggedFiveTimesWithTinyNoise_DistanceSignalsStayCalibrated")]
    [TestCase(128, 100, 0.5, 0.0, TestName = "Score_FewTrainingRowsLoggedFiveTimesInManyDimensions_MahalanobisStaysCalibrated")]
    [TestCase(128, 100, 0.5, 0.01, TestName = "Score_FewTrainingRowsLoggedFiveTimesWithTinyNoiseInManyDimensions_MahalanobisStaysCalibrated")]
    [CancelAfter(120_000)]
    public void Score_CopiedTrainingRows_DistanceSignalsStayCalibrated(int dimension, int perClass, double holdOut, double copyNoise)
    {
        // Arrange: distinct rows, each logged 5 times (consecutive copies), plus noise per copy; enough held-out groups
        // (300 and 200) for a p of 0.01 inside the held-out range. 48-d: the copies' kNN distance; 128-d with 100 rows per
        // class: a class Gaussian fitted on a held-out record's copies.
        var (distinct, distinctLabels) = SyntheticEmbeddings.Clusters(Classes, perClass, dimension, separation: 4, seed: 1);
        var (training, labels) = Copied(distinct, distinctLabels, copyNoise, seed: 2);
        var (production, productionLabels) = SyntheticEmbeddings.Clusters(Classes, 1_000, dimension, separation: 4, seed: 3);
        var ids = SyntheticEmbeddings.Ids(productionLabels.Length);
        var options = new RecommendationOptions { HoldOutFraction = holdOut };

        // Act
        var model = RecommendationModel.Fit(new TrainingData(training, dimension, labels), "v1", options: options);
        var scored = RecommendationScorer.Score(model, new ProductionBatch(ids, production, dimension, productionLabels));

        // Assert: p < 0.01 for about 1% of a stream drawn like training (before: about 9-20%).
        double ShareBelow(SignalKind kind) => scored.Average(r => r.Signal(kind)!.Value.PValue < 0.01 ? 1.0 : 0.0);
        var knn = ShareBelow(SignalKind.KnnDistance);
        var mahalanobis = ShareBelow(SignalKind.Mahalanobis);
        var relative = ShareBelow(SignalKind.RelativeMahalanobis);
        TestContext.Out.WriteLine($"{dimension}-d, {perClass} per class, noise {copyNoise}: held out {model.HeldOutCount}, fitted {model.FittedRows.Count}; share p < 0.01: knn {knn:0.000}, mahalanobis {mahalanobis:0.000}, relative {relative:0.000}");
        Assert.Multiple(() =>
        {
            Assert.That(model.FittedRows.Intersect(model.HeldOutRows.SelectMany(r => Enumerable.Range(r - (r % Copies), Copies))), Is.Empty, "no copy of a held-out row is fitted");
            Assert.That(knn, Is.LessThan(0.03), "knn_distance");
            Assert.That(mahalanobis, Is.LessThan(0.03), "mahalanobis");
            Assert.That(relative, Is.LessThan(0.03), "relative_mahalanobis");
        });
    }

    [Test]
    public void Fit_DistinctTrainingRows_HoldsOutAsBefore()
    {
        var (training, labels) = SyntheticEmbeddings.Clusters(2, 100, 8, separation: 4, seed: 1);

        var model = RecommendationModel.Fit(new TrainingData(training, 8, labels), "v1");

        Assert.Multiple(() =>
        {
            Assert.That(model.HeldOutCount, Is.EqualTo(30), "15% of each class");
            Assert.That(model.FittedRows.Count + model.HeldOutCount, Is.EqualTo(200));
        });
    }

    [Test]
    public void Fit_EveryRowTheSameVector_StillFits()
    {
        var training = Enumerable.Range(0, 40).SelectMany(_ => new float[] { 1, 2, 3 }).ToArray();

        var model = RecommendationModel.Fit(new TrainingData(training, 3, [.. Enumerable.Repeat("a", 40)]), "v1");

        Assert.That(model.FittedRows, Is.Not.Empty);
    }

    [Test]
    [CancelAfter(120_000)]
    public void WithProductionShift_TrainingRowsLoggedFiveTimes_StreamDrawnLikeTrainingIsNotShifted()
    {
        var (distinct, distinctLabels) = SyntheticEmbeddings.Clusters(2, 200, 16, separation: 6, seed: 1);
        var (training, labels) = Copied(distinct, distinctLabels, 0, seed: 2);
        var data = new TrainingData(training, 16, labels);
        var (production, productionLabels) = SyntheticEmbeddings.Clusters(2, 600, 16, separation: 6, seed: 3);
        var ids = SyntheticEmbeddings.Ids(productionLabels.Length);
        ShiftSample[] sample = [.. ids.Select((id, i) => new ShiftSample(production.AsMemory(i * 16, 16), null, ProductionShiftClassifier.FoldOf(id)))];

        var model = RecommendationModel.Fit(data, "v1").WithProductionShift(data, sample, throughSequence: 0, productionCount: ids.Length);
        var scored = RecommendationScorer.Score(model, new ProductionBatch(ids, production, 16, productionLabels));

        var shift = model.ProductionShift!;
        var shareBelow = scored.Average(r => r.Signal(SignalKind.ProductionShift) is { PValue: < 0.001 } ? 1.0 : 0.0);
        TestContext.Out.WriteLine($"AUC {shift.Classifier.Auc:0.000}, joins {shift.Joins}, share p < 0.001 {shareBelow:0.000}");
        Assert.Multiple(() =>
        {
            Assert.That(shift.Joins, Is.False, "the classifier's own test does not tell the stream from training");
            Assert.That(shareBelow, Is.LessThan(0.005), "production_shift p < 0.001 for about one in a thousand");
        });
    }

    // Each distinct row logged `Copies` times in a row, each copy plus Gaussian noise of `noise` per dimension.
    private static (float[] Embeddings, string[] Labels) Copied(float[] distinct, string[] labels, double noise, int seed)
    {
        var random = new Random(seed);
        var rows = labels.Length;
        var d = distinct.Length / rows;
        var embeddings = new float[rows * Copies * d];
        var copiedLabels = new string[rows * Copies];
        for (var r = 0; r < rows; r++)
        {
            for (var c = 0; c < Copies; c++)
            {
                var row = (r * Copies) + c;
                copiedLabels[row] = labels[r];
                for (var j = 0; j < d; j++)
                {
                    embeddings[(row * d) + j] = (float)(distinct[(r * d) + j] + (noise * random.NextGaussian()));
                }
            }
        }

        return (embeddings, copiedLabels);
    }
}
