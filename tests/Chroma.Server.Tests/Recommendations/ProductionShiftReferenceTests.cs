using Chroma.Server.Recommendations;
using Chroma.Server.Tests.Recommendations.Data;
using NUnit.Framework;

namespace Chroma.Server.Tests.Recommendations;

/// <summary>
/// The production-shift classifier compared with a reference set (data from the training distribution the model never
/// saw) instead of the training rows the model has memorised.
/// </summary>
public class ProductionShiftReferenceTests
{
    private const int Dimension = 16;
    private const double Separation = 6;

    // Two classes (centres 6 e0 and 6 e1). Rows the model never saw have unit noise; the training rows have 0.7 of it,
    // as a model pulls the rows it was fitted on towards its classes (the memorisation a real model shows: on the
    // constructed-shift benchmark its training digits are told from unseen ones with an AUC of 0.73).
    private static (float[] Embeddings, string[] Labels) Unseen(int perClass, int seed) =>
        SyntheticEmbeddings.Clusters(2, perClass, Dimension, Separation, seed);

    private static (float[] Embeddings, string[] Labels) Memorised(int perClass, int seed)
    {
        var (embeddings, labels) = Unseen(perClass, seed);
        for (var row = 0; row < labels.Length; row++)
        {
            var centre = labels[row] == "0" ? 0 : 1;
            for (var j = 0; j < Dimension; j++)
            {
                var i = (row * Dimension) + j;
                embeddings[i] = (float)(((embeddings[i] - (j == centre ? Separation : 0)) * 0.7) + (j == centre ? Separation : 0));
            }
        }

        return (embeddings, labels);
    }

    // Unseen rows moved `shift` standard deviations along (e2 + ... + e15) / sqrt(14), a direction with no class information.
    private static float[] Shifted(int perClass, int seed, double shift)
    {
        var (embeddings, _) = Unseen(perClass, seed);
        var step = (float)(shift / Math.Sqrt(Dimension - 2));
        for (var row = 0; row < 2 * perClass; row++)
        {
            for (var j = 2; j < Dimension; j++)
            {
                embeddings[(row * Dimension) + j] += step;
            }
        }

        return embeddings;
    }

    private static ShiftSample[] Sample(float[] embeddings, string[] ids) =>
        [.. ids.Select((id, i) => new ShiftSample(embeddings.AsMemory(i * Dimension, Dimension), null, ProductionShiftClassifier.FoldOf(id)))];

    private static RecommendationModel FitModel(out TrainingData data)
    {
        var (training, labels) = Memorised(500, seed: 1);
        data = new TrainingData(training, Dimension, labels);
        return RecommendationModel.Fit(data, "v1");
    }

    private static double ShiftAuroc(RecommendationModel model, float[] production, string[] ids, bool[] isShifted)
    {
        var shift = model.ProductionShift!;
        var logits = ids.Select((id, i) => shift.Classifier.Score(production.AsSpan(i * Dimension, Dimension), null, ProductionShiftClassifier.FoldOf(id))).ToArray();
        return Auroc.Compute(logits, isShifted);
    }

    [Test]
    public void WithProductionShift_MemorisedTrainingRows_ReferenceSetSeparatesTheShiftBetter()
    {
        var model = FitModel(out var data);
        var (normal, _) = Unseen(400, seed: 2);
        var shifted = Shifted(100, seed: 3, shift: 2);
        float[] production = [.. normal, .. shifted];
        string[] ids = [.. SyntheticEmbeddings.Ids(800, "n"), .. SyntheticEmbeddings.Ids(200, "s")];
        bool[] isShifted = [.. ids.Select(id => id.StartsWith('s'))];
        var (reference, _) = Unseen(300, seed: 4);

        var againstTraining = model.WithProductionShift(data, Sample(production, ids), 0, ids.Length);
        var againstReference = model.WithProductionShift(data, Sample(production, ids), 0, ids.Length, reference: Sample(reference, SyntheticEmbeddings.Ids(600, "r")));
        var withoutReference = ShiftAuroc(againstTraining, production, ids, isShifted);
        var withReference = ShiftAuroc(againstReference, production, ids, isShifted);
        TestContext.Out.WriteLine($"shifted vs normal production, classifier logit AUROC: against training {withoutReference:0.000}, against the reference set {withReference:0.000}");

        Assert.Multiple(() =>
        {
            Assert.That(againstTraining.ProductionShift!.AgainstReference, Is.False);
            Assert.That(againstReference.ProductionShift!.AgainstReference, Is.True);
            Assert.That(againstReference.ProductionShift!.Classifier.TrainingRows, Is.EqualTo(600), "the reference rows take the training rows' side");
            Assert.That(againstReference.ProductionShift!.ReferenceCheck!.AucPValue, Is.LessThan(ProductionShift.SignificanceLevel), "the memorised training rows differ from the reference rows");
            // A 2-sd shift separates at Phi(2 / sqrt 2) = 0.92 at best, with clean labels; learnt from 800 normal rows
            // mixed into production, 0.84 here (0.72 against the training rows).
            Assert.That(withReference, Is.GreaterThan(0.8));
            Assert.That(withReference, Is.GreaterThan(withoutReference + 0.05), "against the training rows the classifier also learns the memorisation, which every production row shows");
        });
    }

    [Test]
    public void WithProductionShift_ProductionDrawnLikeTheReference_TestDoesNotJoinWhileAgainstTrainingItWould()
    {
        var model = FitModel(out var data);
        var (production, _) = Unseen(500, seed: 5);
        var ids = SyntheticEmbeddings.Ids(1_000);
        var (reference, _) = Unseen(300, seed: 6);

        var againstTraining = model.WithProductionShift(data, Sample(production, ids), 0, ids.Length).ProductionShift!;
        var againstReference = model.WithProductionShift(data, Sample(production, ids), 0, ids.Length, reference: Sample(reference, SyntheticEmbeddings.Ids(600, "r"))).ProductionShift!;
        var p = ids.Select((id, i) => againstReference.Calibrator.PValue(againstReference.Classifier.Score(production.AsSpan(i * Dimension, Dimension), null, ProductionShiftClassifier.FoldOf(id)))).ToArray();

        Assert.Multiple(() =>
        {
            Assert.That(againstTraining.Joins, Is.True, "the memorised training rows differ from any unseen row: a false alarm");
            Assert.That(againstReference.Classifier.Auc, Is.EqualTo(0.5).Within(0.05));
            Assert.That(againstReference.Joins, Is.False, "nothing tells production from the reference set");
            Assert.That(p.Average(), Is.EqualTo(0.5).Within(0.07), "calibrated on the reference rows' out-of-fold logits");
        });
    }

    [Test]
    public void WithProductionShift_ReferenceDrawnLikeTheTrainingRows_KeepsTheLargerTrainingSample()
    {
        // Training rows that the model did not pull in (full noise): the reference rows add nothing the 1,000 training
        // rows lack, so the check cannot tell them apart and production stays compared with training.
        var (training, labels) = Unseen(500, seed: 1);
        var data = new TrainingData(training, Dimension, labels);
        var model = RecommendationModel.Fit(data, "v1");
        var (normal, _) = Unseen(400, seed: 2);
        var shifted = Shifted(100, seed: 3, shift: 2);
        float[] production = [.. normal, .. shifted];
        string[] ids = [.. SyntheticEmbeddings.Ids(800, "n"), .. SyntheticEmbeddings.Ids(200, "s")];
        var (reference, _) = Unseen(150, seed: 4);

        var shift = model.WithProductionShift(data, Sample(production, ids), 0, ids.Length, reference: Sample(reference, SyntheticEmbeddings.Ids(300, "r"))).ProductionShift!;

        Assert.Multiple(() =>
        {
            Assert.That(shift.ReferenceCheck, Is.Not.Null);
            Assert.That(shift.ReferenceCheck!.AucPValue, Is.GreaterThanOrEqualTo(ProductionShift.SignificanceLevel), $"AUC {shift.ReferenceCheck.Auc:0.000}");
            Assert.That(shift.AgainstReference, Is.False);
            Assert.That(shift.ReferenceRows, Is.EqualTo(300));
            Assert.That(shift.Classifier.TrainingRows, Is.EqualTo(model.FittedRows.Count));
        });
    }

    [Test]
    public void WithProductionShift_FewerReferenceRowsThanTheMinimum_ComparesWithTraining()
    {
        var model = FitModel(out var data);
        var (production, _) = Unseen(200, seed: 7);
        var ids = SyntheticEmbeddings.Ids(400);
        var few = ProductionShift.MinimumReferenceRows - 2;
        var (reference, _) = Unseen(few / 2, seed: 8);

        var shift = model.WithProductionShift(data, Sample(production, ids), 0, ids.Length, reference: Sample(reference, SyntheticEmbeddings.Ids(few, "r"))).ProductionShift!;

        Assert.Multiple(() =>
        {
            Assert.That(shift.AgainstReference, Is.False);
            Assert.That(shift.ReferenceCheck, Is.Null, "too few reference rows to check");
            Assert.That(shift.Classifier.TrainingRows, Is.EqualTo(model.FittedRows.Count));
        });
    }
}
