using Chroma.Server.Recommendations;
using Chroma.Server.Tests.Recommendations.Data;
using NUnit.Framework;

namespace Chroma.Server.Tests.Recommendations;

public class RecommendationModelTests
{
    private const int Dimension = 8;

    [Test]
    public void Fit_DefaultOptions_HoldsOutFifteenPercent()
    {
        var model = Fit(perClass: 100);

        Assert.That(model.HeldOutCount, Is.EqualTo(45));
        Assert.That(model.FittedRows, Has.Count.EqualTo(255));
        Assert.That(model.NeighborLabels, Has.Count.EqualTo(300), "the neighbour search holds every training row");
        Assert.That(model.TrainingVersion, Is.EqualTo("v1"));
    }

    [Test]
    public void Fit_ClassWithOneRecord_KeepsItInTheFit()
    {
        var (embeddings, labels) = SyntheticEmbeddings.Clusters(2, 20, Dimension, 6, seed: 12);
        var training = new TrainingData([.. embeddings, .. SyntheticEmbeddings.Axis(Dimension, 5, 6)], Dimension, [.. labels, "rare"]);

        var model = RecommendationModel.Fit(training, "v1");

        Assert.That(model.FittedRows.Select(r => training.Labels[r]), Does.Contain("rare"));
        Assert.That(model.Mahalanobis.Classes, Does.Contain("rare"));
        Assert.That(model.HeldOutCount, Is.EqualTo(6));
    }

    [Test]
    public void Fit_TwoRecordsOfDifferentClasses_HoldsOutOne()
    {
        var training = new TrainingData([1, 0, 0, 1], 2, ["a", "b"]);

        var model = RecommendationModel.Fit(training, "v1");

        Assert.That(model.HeldOutCount, Is.EqualTo(1));
        Assert.That(model.FittedRows, Has.Count.EqualTo(1));
    }

    [Test]
    public void Score_RecordsFromTrainingDistribution_HaveRoughlyUniformPercentiles()
    {
        var model = Fit(perClass: 300);
        var (fresh, freshLabels) = SyntheticEmbeddings.Clusters(3, 100, Dimension, 6, seed: 99);
        var batch = new ProductionBatch(SyntheticEmbeddings.Ids(300), fresh, Dimension, freshLabels);

        var scored = RecommendationScorer.Score(model, batch);

        var mahalanobis = scored.Select(r => r.Signal(SignalKind.Mahalanobis)!.Value.Percentile).ToArray();
        var knn = scored.Select(r => r.Signal(SignalKind.KnnDistance)!.Value.Percentile).ToArray();
        Assert.That(mahalanobis.Average(), Is.InRange(0.35, 0.65));
        Assert.That(knn.Average(), Is.InRange(0.35, 0.65));
        Assert.That(mahalanobis.Count(p => p >= 0.99), Is.LessThan(15));
    }

    [Test]
    public void Score_FarPoint_IsFlaggedWithTinyPValue()
    {
        var model = Fit(perClass: 200);
        var far = SyntheticEmbeddings.Axis(Dimension, 7, 25);
        var batch = new ProductionBatch(["far"], far, Dimension, ["0"]);

        var record = RecommendationScorer.Score(model, batch)[0];

        Assert.That(record.Signal(SignalKind.Mahalanobis)!.Value.Percentile, Is.EqualTo(1));
        Assert.That(record.Signal(SignalKind.Mahalanobis)!.Value.PValue, Is.LessThan(0.001));
        Assert.That(record.Signal(SignalKind.KnnDistance)!.Value.PValue, Is.LessThan(0.001));
    }

    [Test]
    public void Score_PointBetweenTwoClasses_HasBoundaryDisagreement()
    {
        var model = Fit(perClass: 200);
        var between = new float[Dimension];
        between[0] = 3;
        between[1] = 3.4f;
        var batch = new ProductionBatch(["between"], between, Dimension, ["0"]);

        var record = RecommendationScorer.Score(model, batch)[0];

        Assert.That(record.Measurement.Neighbors.Disagreement, Is.GreaterThan(0.5));
        Assert.That(record.Measurement.Neighbors.DominantOtherClass, Is.EqualTo("1"));
        Assert.That(record.Signal(SignalKind.Boundary)!.Value.Percentile, Is.GreaterThan(0.9));
    }

    [Test]
    public void Score_WithProbabilities_AddsProbabilitySignals()
    {
        var model = Fit(perClass: 50);
        var batch = new ProductionBatch(["a", "b"], new float[2 * Dimension], Dimension, null, [[0.41f, 0.38f, 0.21f], null]);

        var scored = RecommendationScorer.Score(model, batch);

        // Every signal but the production-shift one, which needs a classifier fitted on production (WithProductionShift).
        Assert.That(scored[0].Signals.Select(s => s.Kind), Is.EqualTo(Enum.GetValues<SignalKind>().Where(k => k != SignalKind.ProductionShift)));
        Assert.That(scored[0].Signal(SignalKind.Margin)!.Value.Value, Is.EqualTo(0.97).Within(1e-6));
        Assert.That(scored[1].Signals, Has.Count.EqualTo(5));
    }

    [Test]
    public void Score_WrongDimension_ThrowsNamingBatch()
    {
        var model = Fit(perClass: 20);
        var batch = new ProductionBatch(["a"], new float[3], 3);

        Assert.That(() => RecommendationScorer.Score(model, batch), Throws.ArgumentException.With.Property("ParamName").EqualTo("batch"));
    }

    [Test]
    public void Score_CancelledToken_Throws()
    {
        var model = Fit(perClass: 20);
        var batch = new ProductionBatch(["a"], new float[Dimension], Dimension);

        Assert.That(() => RecommendationScorer.Score(model, batch, cancellationToken: new CancellationToken(canceled: true)), Throws.InstanceOf<OperationCanceledException>());
    }

    [Test]
    public void Fit_SameDataTwice_ScoresIdentically()
    {
        var batch = new ProductionBatch(["x"], SyntheticEmbeddings.Axis(Dimension, 2, 3), Dimension, ["2"]);

        var first = RecommendationScorer.Score(Fit(perClass: 60), batch)[0];
        var second = RecommendationScorer.Score(Fit(perClass: 60), batch)[0];

        Assert.That(second.Signals, Is.EqualTo(first.Signals));
    }

    [Test]
    public void Fit_OneRecord_ThrowsNamingTraining()
    {
        var training = new TrainingData(new float[Dimension], Dimension, ["a"]);

        Assert.That(() => RecommendationModel.Fit(training, "v1"), Throws.ArgumentException.With.Property("ParamName").EqualTo("training"));
    }

    [Test]
    public void TrainingData_NaNEmbedding_ThrowsNamingRowAndField()
    {
        float[] embeddings = [1, 2, float.NaN, 4];

        Assert.That(
            () => new TrainingData(embeddings, 2, ["a", "b"]),
            Throws.ArgumentException.With.Property("ParamName").EqualTo("embeddings").And.Message.Contains("row 1"));
    }

    [Test]
    public void TrainingData_EmptyLabel_ThrowsNamingLabels()
    {
        Assert.That(() => new TrainingData(new float[4], 2, ["a", ""]), Throws.ArgumentException.With.Property("ParamName").EqualTo("labels"));
    }

    [Test]
    public void ProductionBatch_IdCountMismatch_ThrowsNamingEmbeddings()
    {
        Assert.That(() => new ProductionBatch(["a"], new float[4], 2), Throws.ArgumentException.With.Property("ParamName").EqualTo("embeddings"));
    }

    private static RecommendationModel Fit(int perClass)
    {
        var (embeddings, labels) = SyntheticEmbeddings.Clusters(3, perClass, Dimension, 6, seed: 11);
        return RecommendationModel.Fit(new TrainingData(embeddings, Dimension, labels), "v1");
    }
}
