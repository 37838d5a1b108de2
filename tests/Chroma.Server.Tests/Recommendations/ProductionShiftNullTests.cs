using Chroma.Server.Recommendations;
using Chroma.Server.Tests.Recommendations.Data;
using NUnit.Framework;

namespace Chroma.Server.Tests.Recommendations;

/// <summary>
/// The production-shift lead measured against the stream's bulk (<see cref="ProductionShift.NullShift"/>): a difference
/// the whole stream shares is its normal, a group beyond it still leads.
/// </summary>
public class ProductionShiftNullTests
{
    private const int Dimension = 16;

    [Test]
    public void NullShiftOf_ProductionLogitsMovedUp_IsHowFarTheLowestFiftiethMoved()
    {
        var calibrator = new EmpiricalCalibrator(Enumerable.Range(0, 1000).Select(i => (double)i));

        Assert.Multiple(() =>
        {
            Assert.That(ProductionShift.NullShiftOf([.. Enumerable.Range(0, 1000).Select(i => i + 2.5)], calibrator), Is.EqualTo(2.5));
            // Half the stream far above the rest: the lowest 2% is the other half's lowest 4%, 0.04 * 999 against 20.
            Assert.That(ProductionShift.NullShiftOf([.. Enumerable.Range(0, 1000).Select(i => i % 2 == 0 ? i : 5000.0)], calibrator), Is.EqualTo(20).Within(2));
            Assert.That(ProductionShift.NullShiftOf([.. Enumerable.Range(0, 1000).Select(i => i - 50.0)], calibrator), Is.Zero, "a stream below training moves nothing");
            Assert.That(ProductionShift.NullShiftOf([double.NaN, double.NaN], calibrator), Is.Zero, "no finite logit");
            Assert.That(ProductionShift.NullShiftOf([], calibrator), Is.Zero);
            Assert.That(ProductionShift.NullShiftOf([double.NaN, .. Enumerable.Range(0, 1000).Select(i => i + 7.0)], calibrator), Is.EqualTo(7), "NaN rows are left out");
        });
    }

    [Test]
    public void LeadSurprise_IsTheSurpriseOfTheLogitMovedBackByTheNullShift()
    {
        var calibrator = new EmpiricalCalibrator(Enumerable.Range(0, 1000).Select(i => (double)i));
        var classifier = FitClassifier();
        var shift = new ProductionShift(classifier, calibrator, 0, 10) { NullShift = 100 };

        Assert.Multiple(() =>
        {
            Assert.That(shift.LeadSurprise(990), Is.EqualTo(-Math.Log10(calibrator.PValue(890))).Within(1e-12));
            Assert.That(shift.LeadSurprise(990), Is.LessThan(-Math.Log10(calibrator.PValue(990))));
            Assert.That((shift with { NullShift = 0 }).LeadSurprise(990), Is.EqualTo(-Math.Log10(calibrator.PValue(990))).Within(1e-12));
        });
    }

    [Test]
    public void Score_WholeStreamMovedALittle_TheLeadTreatsItAsTheNormalOfThisStream()
    {
        // Every production row moved 1 standard deviation along a direction without class information: the classifier
        // tells production from training (it joins), but nothing in production stands out from the rest of it.
        var broad = FitAndScore(Normal(0, seed: 2), Shifted(400, seed: 3, shift: 1));

        // 100 of 800 rows moved 3 standard deviations, the rest like training: the bulk is training's, the group leads.
        var local = FitAndScore(Normal(350, seed: 2), Shifted(50, seed: 3, shift: 3));

        var broadShift = broad.Model.ProductionShift!;
        var localShift = local.Model.ProductionShift!;
        double ShareBeyondFloor(IEnumerable<double> surprises) => surprises.Average(s => s > SignalCombiner.ShiftLeadFloor ? 1.0 : 0.0);
        var broadSignalBeyond = ShareBeyondFloor(broad.Scored.Select(r => r.Signal(SignalKind.ProductionShift)!.Value.Surprise));
        var broadLeadBeyond = ShareBeyondFloor(broad.Scored.Select(r => r.ShiftLeadSurprise!.Value));
        var localGroupLeadBeyond = ShareBeyondFloor(local.Scored.Where(r => r.Id.StartsWith('s')).Select(r => r.ShiftLeadSurprise!.Value));
        TestContext.Out.WriteLine($"broad: AUC {broadShift.Classifier.Auc:0.000}, null shift {broadShift.NullShift:0.000}, beyond one in ten: signal {broadSignalBeyond:P0}, lead {broadLeadBeyond:P0}; local: AUC {localShift.Classifier.Auc:0.000}, null shift {localShift.NullShift:0.000}, group beyond: {localGroupLeadBeyond:P0}");

        Assert.Multiple(() =>
        {
            Assert.That(broadShift.Joins, Is.True, "the classifier tells the moved stream from training");
            Assert.That(broadShift.NullShift, Is.GreaterThan(localShift.NullShift + 0.5), "the whole stream's bulk moved, the local one's did not");
            Assert.That(broadSignalBeyond, Is.GreaterThan(0.3), "against training, much of the stream is beyond one in ten");
            Assert.That(broadLeadBeyond, Is.LessThan(0.2), "against the stream's bulk, about a tenth (a little more: the bulk is read from below)");
            Assert.That(localShift.Joins, Is.True);
            Assert.That(localGroupLeadBeyond, Is.GreaterThan(0.6), "the moved group still leads");
        });
    }

    private static (float[] Embeddings, string[] Labels) Normal(int perClass, int seed) =>
        SyntheticEmbeddings.Clusters(2, perClass, Dimension, separation: 6, seed);

    // As ProductionShiftSignalTests: rows moved `shift` standard deviations along (e2 + ... + e15) / sqrt(14).
    private static (float[] Embeddings, string[] Labels) Shifted(int perClass, int seed, double shift)
    {
        var (embeddings, labels) = Normal(perClass, seed);
        return (SyntheticEmbeddings.MoveOffTheClassAxes(embeddings, Dimension, shift), labels);
    }

    private static (RecommendationModel Model, ScoredRecord[] Scored) FitAndScore((float[] Embeddings, string[] Labels) normal, (float[] Embeddings, string[] Labels) shifted)
    {
        var (training, labels) = Normal(500, seed: 1);
        var data = new TrainingData(training, Dimension, labels);
        string[] ids = [.. SyntheticEmbeddings.Ids(normal.Labels.Length, "n"), .. SyntheticEmbeddings.Ids(shifted.Labels.Length, "s")];
        float[] production = [.. normal.Embeddings, .. shifted.Embeddings];
        ShiftSample[] sample = [.. ids.Select((id, i) => new ShiftSample(production.AsMemory(i * Dimension, Dimension), null, ProductionShiftClassifier.FoldOf(id)))];
        var model = RecommendationModel.Fit(data, "v1").WithProductionShift(data, sample, throughSequence: 0, productionCount: ids.Length);
        return (model, RecommendationScorer.Score(model, new ProductionBatch(ids, production, Dimension, [.. normal.Labels, .. shifted.Labels])));
    }

    private static ProductionShiftClassifier FitClassifier()
    {
        var (training, _) = Normal(50, seed: 1);
        var (production, _) = Shifted(50, seed: 2, shift: 3);
        ShiftSample[] Sample(float[] rows, string prefix) =>
            [.. Enumerable.Range(0, rows.Length / Dimension).Select(i => new ShiftSample(rows.AsMemory(i * Dimension, Dimension), null, ProductionShiftClassifier.FoldOf(prefix + i)))];
        return ProductionShiftClassifier.Fit(Sample(training, "t"), Sample(production, "p"), Dimension, 1, Chroma.Server.Background.BackgroundWorkLimiter.Shared);
    }
}
