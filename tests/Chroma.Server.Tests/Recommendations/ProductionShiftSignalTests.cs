using Chroma.Server.Background;
using Chroma.Server.Recommendations;
using Chroma.Server.Tests.Recommendations.Data;
using NUnit.Framework;

namespace Chroma.Server.Tests.Recommendations;

public class ProductionShiftSignalTests
{
    private const int Dimension = 16;

    // Two classes (centres 6 e0 and 6 e1, unit noise). A shifted record is a normal one moved 3 standard deviations
    // along u = (e2 + ... + e15) / sqrt(14), a direction with no class information: its squared Mahalanobis distance
    // grows from about 16 to about 25 (sd 6-8), so the distances barely see it, while a linear classifier that learns u
    // separates it with an AUC near Phi(3 / sqrt 2) = 0.98.
    private static (float[] Embeddings, string[] Labels) Normal(int perClass, int seed) =>
        SyntheticEmbeddings.Clusters(2, perClass, Dimension, separation: 6, seed);

    private static (float[] Embeddings, string[] Labels) Shifted(int perClass, int seed, double shift = 3)
    {
        var (embeddings, labels) = Normal(perClass, seed);
        return (SyntheticEmbeddings.MoveOffTheClassAxes(embeddings, Dimension, shift), labels);
    }

    private static ShiftSample[] Sample(float[] embeddings, string[] ids) =>
        [.. ids.Select((id, i) => new ShiftSample(embeddings.AsMemory(i * Dimension, Dimension), null, ProductionShiftClassifier.FoldOf(id)))];

    private static (RecommendationModel Model, ScoredRecord[] Scored, bool[] IsShifted) FitAndScore(int normalPerClass, int shiftedPerClass)
    {
        var (training, labels) = Normal(500, seed: 1);
        var data = new TrainingData(training, Dimension, labels);
        var (normal, normalLabels) = Normal(normalPerClass, seed: 2);
        var (shifted, shiftedLabels) = Shifted(shiftedPerClass, seed: 3);
        string[] ids = [.. SyntheticEmbeddings.Ids(normalLabels.Length, "n"), .. SyntheticEmbeddings.Ids(shiftedLabels.Length, "s")];
        float[] production = [.. normal, .. shifted];
        var model = RecommendationModel.Fit(data, "v1").WithProductionShift(data, Sample(production, ids), throughSequence: 0, productionCount: ids.Length);
        var scored = RecommendationScorer.Score(model, new ProductionBatch(ids, production, Dimension, [.. normalLabels, .. shiftedLabels]));
        return (model, scored, [.. scored.Select(r => r.Id.StartsWith('s'))]);
    }

    private static double AurocOf(ScoredRecord[] scored, bool[] isShifted, Func<ScoredRecord, double> score) =>
        Auroc.Compute([.. scored.Select(score)], isShifted);

    [Test]
    public void Score_ShiftedGroupTheDistancesMiss_ClassifierSeparatesItAndBalancedRanksItFirst()
    {
        var (model, scored, shifted) = FitAndScore(normalPerClass: 300, shiftedPerClass: 50);

        var withoutShift = AurocOf(scored, shifted, r => SignalCombiner.Score([.. r.Signals.Where(s => s.Kind != SignalKind.ProductionShift)], RecommendationStrategy.Balanced));
        Assert.Multiple(() =>
        {
            Assert.That(model.ProductionShift!.Joins, Is.True);
            Assert.That(model.TrainingVersion, Does.StartWith("v1+shift"));
            Assert.That(AurocOf(scored, shifted, r => r.Signal(SignalKind.Mahalanobis)!.Value.Value), Is.LessThan(0.85), "the distances barely see the shift");
            // Logistic regression (scheme m4) reached above 0.93 here; the network (m5) 0.92: on a purely linear shift
            // with 1,000 training and 700 production rows it is a little less sample-efficient.
            Assert.That(AurocOf(scored, shifted, r => r.Signal(SignalKind.ProductionShift)!.Value.Value), Is.GreaterThan(0.9), "the classifier separates it");
            Assert.That(AurocOf(scored, shifted, r => SignalCombiner.Score(r, RecommendationStrategy.Balanced)), Is.GreaterThan(withoutShift + 0.05));
            Assert.That(scored.Where(r => r.Id.StartsWith('s')).Average(r => r.Signal(SignalKind.ProductionShift)!.Value.PValue), Is.LessThan(0.1));
            var top = scored.OrderByDescending(r => SignalCombiner.Score(r, RecommendationStrategy.Balanced)).First();
            Assert.That(ReasonWriter.Write(top, RecommendationStrategy.Balanced), Has.Some.StartsWith("unlike the training data: a classifier tells it apart from the training (or reference) rows (p "));
        });
    }

    // A "blurred" group: records of the two classes pulled towards their class centre (noise scaled by 0.3, as a blur
    // shrinks what sets one digit apart from another). The class distances find them closer than usual and only the
    // feature norm (a shorter embedding) speaks for them in the mean; a classifier with a hidden layer learns "too
    // close" and finds most of them beyond one in a hundred (88 of 200; in the mean's top 100 54 of them, led 82).
    private static float[] Shrunk(int perClass, int seed)
    {
        var (embeddings, _) = Normal(perClass, seed);
        for (var row = 0; row < 2 * perClass; row++)
        {
            for (var j = 0; j < Dimension; j++)
            {
                var centre = j == row / perClass ? 6f : 0f;
                embeddings[(row * Dimension) + j] = centre + (0.3f * (embeddings[(row * Dimension) + j] - centre));
            }
        }

        return embeddings;
    }

    [Test]
    public void Score_ShrunkGroupTheDistancesFindTypical_TheShiftLeadRanksItAboveNormalRecords()
    {
        var (training, labels) = Normal(500, seed: 1);
        var data = new TrainingData(training, Dimension, labels);
        var (normal, normalLabels) = Normal(300, seed: 2);
        var shrunk = Shrunk(100, seed: 3);
        string[] ids = [.. SyntheticEmbeddings.Ids(normalLabels.Length, "n"), .. SyntheticEmbeddings.Ids(200, "s")];
        float[] production = [.. normal, .. shrunk];
        string[] predictions = [.. normalLabels, .. Enumerable.Range(0, 200).Select(i => i < 100 ? "0" : "1")];
        var model = RecommendationModel.Fit(data, "v1").WithProductionShift(data, Sample(production, ids), throughSequence: 0, productionCount: ids.Length);
        var scored = RecommendationScorer.Score(model, new ProductionBatch(ids, production, Dimension, predictions));
        bool[] shifted = [.. scored.Select(r => r.Id.StartsWith('s'))];

        double Led(RecommendationStrategy strategy) => AurocOf(scored, shifted, r => SignalCombiner.Score(r, strategy));
        double Mean(RecommendationStrategy strategy) => AurocOf(scored, shifted, r => SignalCombiner.WeightedMean(r.Signals, strategy));
        var signal = AurocOf(scored, shifted, r => r.Signal(SignalKind.ProductionShift)!.Value.Value);
        var beyondFloor = scored.Where(r => r.Id.StartsWith('s')).Count(r => r.ShiftLeadSurprise > SignalCombiner.ShiftLeadFloor);
        int ShrunkInTop(Func<ScoredRecord, double> score) => scored.OrderByDescending(score).Take(100).Count(r => r.Id.StartsWith('s'));
        var topMean = ShrunkInTop(r => SignalCombiner.WeightedMean(r.Signals, RecommendationStrategy.Balanced));
        var topLed = ShrunkInTop(r => SignalCombiner.Score(r, RecommendationStrategy.Balanced));
        TestContext.Out.WriteLine($"balanced {Mean(RecommendationStrategy.Balanced):0.000} -> {Led(RecommendationStrategy.Balanced):0.000} (top 100: {topMean} -> {topLed} shrunk); out-of-distribution {Mean(RecommendationStrategy.OutOfDistribution):0.000} -> {Led(RecommendationStrategy.OutOfDistribution):0.000}; signal {signal:0.000}; shrunk beyond the floor {beyondFloor} of 200; null shift {model.ProductionShift!.NullShift:0.000}");
        Assert.Multiple(() =>
        {
            Assert.That(model.ProductionShift!.Joins, Is.True);
            Assert.That(signal, Is.GreaterThan(0.95), "the classifier separates them");
            Assert.That(beyondFloor, Is.GreaterThan(100), "most beyond one in ten against the stream's bulk");
            Assert.That(topLed, Is.GreaterThanOrEqualTo(topMean + 20), "balanced takes half the excess: more of them in its top 100");
            Assert.That(Led(RecommendationStrategy.Balanced), Is.GreaterThan(Mean(RecommendationStrategy.Balanced) + 0.015));
            Assert.That(Led(RecommendationStrategy.OutOfDistribution), Is.GreaterThan(Mean(RecommendationStrategy.OutOfDistribution) + 0.015), "out-of-distribution takes all of it");
            Assert.That(
                scored.Select(r => SignalCombiner.Score(r, RecommendationStrategy.OutOfDistribution)),
                Is.EqualTo(scored.Select(r =>
                {
                    var mean = SignalCombiner.WeightedMean(r.Signals, RecommendationStrategy.OutOfDistribution);
                    var lead = model.ProductionShift!.LeadSurprise(r.Signal(SignalKind.ProductionShift)!.Value.Value);
                    return mean + Math.Max(0, lead - Math.Max(mean, 1));
                })).Within(1e-12));
            Assert.That(scored.Select(r => r.ShiftLeadSurprise), Is.EqualTo(scored.Select(r => (double?)model.ProductionShift!.LeadSurprise(r.Signal(SignalKind.ProductionShift)!.Value.Value))));
            Assert.That(Led(RecommendationStrategy.Uncertainty), Is.EqualTo(Mean(RecommendationStrategy.Uncertainty)), "uncertainty has no lead");
        });
    }

    [Test]
    public void Score_ProductionLikeTraining_NoSignalAndNoLead()
    {
        var (model, scored, _) = FitAndScore(normalPerClass: 400, shiftedPerClass: 0);

        Assert.Multiple(() =>
        {
            Assert.That(model.ProductionShift!.Joins, Is.False, "the classifier cannot tell production from training");
            Assert.That(scored.All(r => r.Signal(SignalKind.ProductionShift) is null), Is.True);
            foreach (var strategy in new[] { RecommendationStrategy.Balanced, RecommendationStrategy.OutOfDistribution })
            {
                Assert.That(scored.Select(r => SignalCombiner.Score(r, strategy)), Is.EqualTo(scored.Select(r => SignalCombiner.WeightedMean(r.Signals, strategy))), strategy.ToString());
            }
        });
    }

    // A shift no linear function and no second moment shows, in 4 dimensions (class centres 6 e0 and 6 e1, unit noise):
    // normal rows sit around the four corners (+-3, +-3) of the (e2, e3) plane (a seeded corner per row), shifted rows
    // around the same square turned by 45 degrees, (+-4.24, 0) and (0, +-4.24). Both have mean 0, variance 9 and
    // covariance 0 in that plane and the same distance from the origin, so the class means, the shared covariance, the
    // lengths and any linear classifier see the same thing on average; a hidden layer can carve out the corners.
    // (With 14 more noise dimensions and this many rows, the network overfits the noise and misses it too: offline,
    // scikit-learn's MLP on the same construction in 16 dimensions stayed at AUC 0.5.)
    private const int CornerDimension = 4;

    private static (float[] Embeddings, string[] Labels) Corners(int perClass, int seed, bool turned)
    {
        var (embeddings, labels) = SyntheticEmbeddings.Clusters(2, perClass, CornerDimension, separation: 6, seed);
        var random = new Random(seed + 100);
        var radius = 3 * Math.Sqrt(2);
        for (var row = 0; row < labels.Length; row++)
        {
            var angle = ((random.Next(4) * 2) + (turned ? 0 : 1)) * Math.PI / 4;
            embeddings[(row * CornerDimension) + 2] += (float)(radius * Math.Cos(angle));
            embeddings[(row * CornerDimension) + 3] += (float)(radius * Math.Sin(angle));
        }

        return (embeddings, labels);
    }

    [Test]
    public void Score_ShiftWithTheSameMeanCovarianceAndLengths_NonlinearClassifierSeparatesIt()
    {
        const int d = CornerDimension;
        var (training, labels) = Corners(500, seed: 1, turned: false);
        var data = new TrainingData(training, d, labels);
        var (normal, normalLabels) = Corners(600, seed: 2, turned: false);
        var (shifted, shiftedLabels) = Corners(300, seed: 3, turned: true);
        string[] ids = [.. SyntheticEmbeddings.Ids(normalLabels.Length, "n"), .. SyntheticEmbeddings.Ids(shiftedLabels.Length, "s")];
        float[] production = [.. normal, .. shifted];
        ShiftSample[] sample = [.. ids.Select((id, i) => new ShiftSample(production.AsMemory(i * d, d), null, ProductionShiftClassifier.FoldOf(id)))];
        var model = RecommendationModel.Fit(data, "v1").WithProductionShift(data, sample, throughSequence: 0, productionCount: ids.Length);
        var scored = RecommendationScorer.Score(model, new ProductionBatch(ids, production, d, [.. normalLabels, .. shiftedLabels]));
        bool[] isShifted = [.. scored.Select(r => r.Id.StartsWith('s'))];

        // The first two moments in the (e2, e3) plane, normal vs shifted.
        static double Moment(float[] rows, Func<float, float, double> f) =>
            Enumerable.Range(0, rows.Length / d).Average(i => f(rows[(i * d) + 2], rows[(i * d) + 3]));
        Func<float, float, double>[] moments = [(a, _) => a, (_, b) => b, (a, _) => a * a, (_, b) => b * b, (a, b) => a * b];
        var momentGaps = moments.Select(f => Math.Abs(Moment(normal, f) - Moment(shifted, f))).ToArray();
        Assert.Multiple(() =>
        {
            Assert.That(momentGaps.Take(2), Is.All.LessThan(0.4), "same mean");
            Assert.That(momentGaps.Skip(2), Is.All.LessThan(1.2), "same second moments (variance 10 each)");
            Assert.That(AurocOf(scored, isShifted, r => r.Signal(SignalKind.Mahalanobis)!.Value.Value), Is.InRange(0.35, 0.65), "the distance to the class means does not see it");
            Assert.That(model.ProductionShift!.Joins, Is.True);
            Assert.That(AurocOf(scored, isShifted, r => r.Signal(SignalKind.ProductionShift)!.Value.Value), Is.GreaterThan(0.65), "the hidden layer separates the turned corners (0.71; offline, logistic regression 0.53)");
        });
    }

    [Test]
    public void WithProductionShift_ProductionDrawnLikeTraining_TestDoesNotJoinAndPValuesAreUniform()
    {
        var (training, labels) = Normal(500, seed: 1);
        var data = new TrainingData(training, Dimension, labels);
        var (production, _) = Normal(1_000, seed: 4);
        var ids = SyntheticEmbeddings.Ids(2_000);
        var model = RecommendationModel.Fit(data, "v1").WithProductionShift(data, Sample(production, ids), 0, ids.Length);
        var shift = model.ProductionShift!;

        var p = ids.Select((id, i) => shift.Calibrator.PValue(shift.Classifier.Score(production.AsSpan(i * Dimension, Dimension), null, ProductionShiftClassifier.FoldOf(id)))).ToArray();
        var scored = RecommendationScorer.Score(model, new ProductionBatch(ids, production, Dimension));

        Assert.Multiple(() =>
        {
            Assert.That(shift.Classifier.Auc, Is.EqualTo(0.5).Within(0.04));
            Assert.That(shift.Joins, Is.False, "nothing tells production from training, so the signal stays out of the scores");
            Assert.That(scored.Select(r => r.Signal(SignalKind.ProductionShift)), Is.All.Null);
            Assert.That(p.Average(), Is.EqualTo(0.5).Within(0.06));
            Assert.That(p.Count(v => v <= 0.1) / (double)p.Length, Is.EqualTo(0.1).Within(0.04));
        });
    }

    [Test]
    public void Score_RecordsInTheClassifierSample_AreScoredByTheModelThatLeftThemOut()
    {
        // Few production rows in many dimensions: a model that saw a row scores it as production (memorised); the one
        // of its own fold never saw it and scores it like any held-out row.
        const int d = 64;
        var (training, labels) = SyntheticEmbeddings.Clusters(2, 200, d, separation: 6, seed: 1);
        var data = new TrainingData(training, d, labels);
        var (production, predicted) = SyntheticEmbeddings.Clusters(2, 40, d, separation: 6, seed: 5);
        var ids = SyntheticEmbeddings.Ids(80);
        ShiftSample[] sample = [.. ids.Select((id, i) => new ShiftSample(production.AsMemory(i * d, d), null, ProductionShiftClassifier.FoldOf(id)))];
        var shift = RecommendationModel.Fit(data, "v1").WithProductionShift(data, sample, 0, ids.Length).ProductionShift!;

        double MeanP(Func<int, int> fold) =>
            ids.Select((id, i) => shift.Calibrator.PValue(shift.Classifier.Score(production.AsSpan(i * d, d), null, fold(i)))).Average();
        var ownFold = MeanP(i => ProductionShiftClassifier.FoldOf(ids[i]));
        var otherFold = MeanP(i => (ProductionShiftClassifier.FoldOf(ids[i]) + 1) % ProductionShiftClassifier.Folds);

        Assert.Multiple(() =>
        {
            Assert.That(ownFold, Is.GreaterThan(0.35), "out of fold, rows drawn like training look like training");
            // Early stopping (scheme m5) limits the memorisation: the gap was above 0.1 with logistic regression, 0.08 now.
            Assert.That(otherFold, Is.LessThan(ownFold - 0.05), "in fold, the classifier has memorised them");
        });
    }

    [Test]
    public void FoldOf_SameId_SameFoldAndEveryFoldUsed()
    {
        var folds = SyntheticEmbeddings.Ids(1_000).Select(ProductionShiftClassifier.FoldOf).ToArray();

        Assert.Multiple(() =>
        {
            Assert.That(ProductionShiftClassifier.FoldOf("record-42"), Is.EqualTo(ProductionShiftClassifier.FoldOf("record-42")));
            Assert.That(folds, Is.All.InRange(0, ProductionShiftClassifier.Folds - 1));
            Assert.That(folds.GroupBy(f => f).Select(g => g.Count()), Is.All.InRange(150, 250));
        });
    }

    [Test]
    public void Fit_SameSample_SameClassifier()
    {
        var (training, labels) = Normal(200, seed: 1);
        var data = new TrainingData(training, Dimension, labels);
        var (production, _) = Shifted(100, seed: 3);
        var ids = SyntheticEmbeddings.Ids(200);
        var model = RecommendationModel.Fit(data, "v1");

        var first = model.WithProductionShift(data, Sample(production, ids), 0, 200, limiter: new BackgroundWorkLimiter(2, "a")).ProductionShift!;
        var second = model.WithProductionShift(data, Sample(production, ids), 0, 200, limiter: new BackgroundWorkLimiter(1, "b")).ProductionShift!;

        Assert.That(
            ids.Select((id, i) => first.Classifier.Score(production.AsSpan(i * Dimension, Dimension), null, ProductionShiftClassifier.FoldOf(id))),
            Is.EqualTo(ids.Select((id, i) => second.Classifier.Score(production.AsSpan(i * Dimension, Dimension), null, ProductionShiftClassifier.FoldOf(id)))));
    }

    [Test]
    public void Fit_ThreeNetworksPerFold_ScoreIsTheMeanOfThreeSingleNetworkClassifiersAndVariesLessWithTheSeed()
    {
        var (training, _) = Normal(200, seed: 1);
        var (production, _) = Shifted(100, seed: 3);
        var trainingIds = SyntheticEmbeddings.Ids(400, "t");
        var ids = SyntheticEmbeddings.Ids(200);
        var limiter = new BackgroundWorkLimiter(2, "ensemble");
        ProductionShiftClassifier Fit(int seed, int networks) =>
            ProductionShiftClassifier.Fit(Sample(training, trainingIds), Sample(production, ids), Dimension, seed, limiter, networks);
        double[] Scores(ProductionShiftClassifier classifier) =>
            [.. ids.Select((id, i) => classifier.Score(production.AsSpan(i * Dimension, Dimension), null, ProductionShiftClassifier.FoldOf(id)))];

        // Member m of fold f is fitted from seed + f + 5 m: the single networks of seeds 1, 6 and 11.
        var singles = new[] { 1, 6, 11 }.Select(seed => Scores(Fit(seed, 1))).ToArray();
        var ensembleClassifier = Fit(1, 3);
        var ensemble = Scores(ensembleClassifier);
        var otherEnsemble = Scores(Fit(16, 3));

        // Spread of a record's score between two classifiers of different seeds, relative to the scores' own spread.
        static double SeedSpread(double[] a, double[] b)
        {
            var differences = a.Zip(b, (u, v) => (u - v) * (u - v)).Average() / 2;
            var all = a.Concat(b).ToArray();
            var mean = all.Average();
            return differences / all.Average(v => (v - mean) * (v - mean));
        }

        var singleSpread = (SeedSpread(singles[0], singles[1]) + SeedSpread(singles[0], singles[2]) + SeedSpread(singles[1], singles[2])) / 3;
        Assert.Multiple(() =>
        {
            Assert.That(ensemble, Is.EqualTo(singles[0].Select((_, i) => singles.Average(s => s[i]))).Within(1e-5));
            Assert.That(ensembleClassifier.NetworksPerFold, Is.EqualTo(3));
            // For independent members, averaging three leaves a third of the seed's share of a score; asserted below 0.6.
            Assert.That(SeedSpread(ensemble, otherEnsemble), Is.LessThan(0.6 * singleSpread));
        });
    }

    [TestCase(100, 199, false)]
    [TestCase(100, 200, true)]
    [TestCase(100, 1_000, true)]
    public void RefitDue_ProductionGrowth_DueFromTwofold(long fittedOn, long now, bool due)
    {
        var (training, labels) = Normal(100, seed: 1);
        var data = new TrainingData(training, Dimension, labels);
        var (production, _) = Shifted(50, seed: 3);
        var shift = RecommendationModel.Fit(data, "v1").WithProductionShift(data, Sample(production, SyntheticEmbeddings.Ids(100)), 7, fittedOn).ProductionShift!;

        Assert.That(shift.RefitDue(now), Is.EqualTo(due));
    }

    [Test]
    public void ModelVersion_ComposedVersion_KeepsItsTrainingPartAndProductionPart()
    {
        var version = ModelVersion.Compose("40-120-4000-m5", throughSequence: 512, productionCount: 300);

        Assert.Multiple(() =>
        {
            Assert.That(ModelVersion.TrainingPart(version), Is.EqualTo("40-120-4000-m5"));
            Assert.That(ModelVersion.SameTraining(version, "40-120-4000-m5"), Is.True);
            Assert.That(ModelVersion.SameTraining(version, "40-120-4000-m4"), Is.False, "scores of the previous scheme are rescored");
            Assert.That(ModelVersion.TryReadShift(version, out var through, out var count), Is.True);
            Assert.That((through, count), Is.EqualTo((512L, 300L)));
            Assert.That(ModelVersion.TryReadShift("40-120-4000-m5", out _, out _), Is.False);
            Assert.That(ModelVersion.Compose(version, 900, 600), Is.EqualTo("40-120-4000-m5+shift900n600"));
        });
    }

    [Test]
    public void Weight_ProductionShift_CountsLikeADistanceExceptForLabeling()
    {
        Assert.Multiple(() =>
        {
            Assert.That(SignalCombiner.Weight(RecommendationStrategy.Balanced, SignalKind.ProductionShift), Is.EqualTo(1));
            Assert.That(SignalCombiner.Weight(RecommendationStrategy.OutOfDistribution, SignalKind.ProductionShift), Is.EqualTo(1));
            Assert.That(SignalCombiner.Weight(RecommendationStrategy.Uncertainty, SignalKind.ProductionShift), Is.EqualTo(0.1));
            Assert.That(SignalCombiner.Weight(RecommendationStrategy.Labeling, SignalKind.ProductionShift), Is.Zero);
        });
    }
}
