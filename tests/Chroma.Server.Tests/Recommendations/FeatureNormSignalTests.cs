using Chroma.Server.Recommendations;
using Chroma.Server.Tests.Recommendations.Data;
using NUnit.Framework;

namespace Chroma.Server.Tests.Recommendations;

public class FeatureNormSignalTests
{
    private const int Dimension = 8;

    // Two classes in opposite half-spaces; every row has a random direction and a length drawn uniformly from
    // [9, 11] (class a) or [4.5, 5.5] (class b), so the class medians are 10 and 5 and a record's shortfall
    // 1 - ||x|| / median is known from its length alone.
    private static (float[] Embeddings, string[] Labels) TwoClasses(int perClass, int seed, double scale = 1)
    {
        var random = new Random(seed);
        var embeddings = new float[2 * perClass * Dimension];
        var labels = new string[2 * perClass];
        for (var row = 0; row < labels.Length; row++)
        {
            var a = row < perClass;
            labels[row] = a ? "a" : "b";
            var direction = new double[Dimension];
            for (var j = 0; j < Dimension; j++)
            {
                direction[j] = random.NextGaussian();
            }

            direction[0] = (a ? 1 : -1) * (Math.Abs(direction[0]) + 2);
            var length = (a ? 10 : 5) * (0.9 + (0.2 * random.NextDouble())) * scale;
            var norm = Math.Sqrt(direction.Sum(v => v * v));
            for (var j = 0; j < Dimension; j++)
            {
                embeddings[(row * Dimension) + j] = (float)(direction[j] / norm * length);
            }
        }

        return (embeddings, labels);
    }

    private static double Shortfall(RecommendationModel model, float[] x, string? predicted)
    {
        var unit = new float[Dimension];
        UnitVectors.Normalize(x, unit);
        return model.Measure(x, unit, predicted).NormShortfall!.Value;
    }

    [Test]
    public void Measure_KnownLengths_ShortfallIsOneMinusLengthOverClassMedian()
    {
        var (embeddings, labels) = TwoClasses(2_000, seed: 1);
        var model = RecommendationModel.Fit(new TrainingData(embeddings, Dimension, labels), "v1");

        Assert.Multiple(() =>
        {
            Assert.That(Shortfall(model, SyntheticEmbeddings.Axis(Dimension, 0, 5), "a"), Is.EqualTo(0.5).Within(0.01));
            Assert.That(Shortfall(model, SyntheticEmbeddings.Axis(Dimension, 0, 5), "b"), Is.EqualTo(0).Within(0.01));
            Assert.That(Shortfall(model, SyntheticEmbeddings.Axis(Dimension, 0, 20), "a"), Is.EqualTo(-1).Within(0.02));
            // No prediction: the nearest class mean's median (class b lies along -e0).
            Assert.That(Shortfall(model, SyntheticEmbeddings.Axis(Dimension, 0, -2.5f), null), Is.EqualTo(0.5).Within(0.01));
        });
    }

    [Test]
    public void Score_ShrunkCopiesOfNormalTraffic_FeatureNormSeparatesThemAndBalancedRanksThemFirst()
    {
        // The shifted records point where normal ones do (cosine neighbours and the probabilities, if any, are
        // unchanged) but are 0.6 times as long: only their length gives them away.
        var (embeddings, labels) = TwoClasses(500, seed: 2);
        var model = RecommendationModel.Fit(new TrainingData(embeddings, Dimension, labels), "v1");
        var (normal, normalLabels) = TwoClasses(200, seed: 3);
        var (shrunk, shrunkLabels) = TwoClasses(50, seed: 4, scale: 0.6);
        var batch = new ProductionBatch(
            [.. SyntheticEmbeddings.Ids(400, "n"), .. SyntheticEmbeddings.Ids(100, "s")],
            [.. normal, .. shrunk],
            Dimension,
            [.. normalLabels, .. shrunkLabels]);
        var scored = RecommendationScorer.Score(model, batch);
        bool[] shifted = [.. scored.Select(r => r.Id.StartsWith('s'))];

        var featureNorm = scored.Select(r => r.Signal(SignalKind.FeatureNorm)!.Value.Value).ToArray();
        var balanced = scored.Select(r => SignalCombiner.Score(r, RecommendationStrategy.Balanced)).ToArray();

        Assert.Multiple(() =>
        {
            Assert.That(Auroc.Compute(featureNorm, shifted), Is.GreaterThan(0.99));
            Assert.That(Auroc.Compute(balanced, shifted), Is.GreaterThan(0.95));
            Assert.That(scored.Where(r => r.Id.StartsWith('s')).Max(r => r.Signal(SignalKind.FeatureNorm)!.Value.PValue), Is.LessThan(0.01));
            Assert.That(scored.Where(r => r.Id.StartsWith('n')).Average(r => r.Signal(SignalKind.FeatureNorm)!.Value.PValue), Is.GreaterThan(0.3));
        });
    }

    [Test]
    public void Fit_UnitLengthEmbeddings_LeavesTheSignalOut()
    {
        var (embeddings, labels) = TwoClasses(300, seed: 5);
        var unit = UnitVectors.NormalizeRows(embeddings, Dimension, Chroma.Server.Background.BackgroundWorkLimiter.Shared);
        var model = RecommendationModel.Fit(new TrainingData(unit, Dimension, labels), "v1");
        var scored = RecommendationScorer.Score(model, new ProductionBatch(SyntheticEmbeddings.Ids(600), unit, Dimension));

        Assert.Multiple(() =>
        {
            Assert.That(model.FeatureNormCalibrator, Is.Null);
            Assert.That(scored.Select(r => r.Signal(SignalKind.FeatureNorm)), Is.All.Null);
        });
    }
}
