using Chroma.Server.Recommendations;
using Chroma.Server.Tests.Recommendations.Data;
using NUnit.Framework;

namespace Chroma.Server.Tests.Recommendations;

public class RelativeMahalanobisTests
{
    private const int Dimension = 8;

    // Two classes with unit isotropic noise around +4 e0 and -4 e0. The background Gaussian (labels ignored) has
    // mean 0 and variance 1 + 16 = 17 along e0, 1 elsewhere, so relative = d_class^2 - d_background^2 is
    // 0 - 16/17 at a class mean, 16 - 0 = 16 at the midpoint between the classes (where no training record lies),
    // and the same for a shift along e1 from a class mean (both distances grow by the same amount).
    private static (float[] Embeddings, string[] Labels) TwoClasses(int perClass, int seed)
    {
        var random = new Random(seed);
        var embeddings = new float[2 * perClass * Dimension];
        var labels = new string[2 * perClass];
        for (var row = 0; row < labels.Length; row++)
        {
            var sign = row < perClass ? 1 : -1;
            labels[row] = sign > 0 ? "a" : "b";
            for (var j = 0; j < Dimension; j++)
            {
                embeddings[(row * Dimension) + j] = (float)(random.NextGaussian() + (j == 0 ? 4 * sign : 0));
            }
        }

        return (embeddings, labels);
    }

    [Test]
    public void Measure_KnownGaussians_RelativeDistanceMatchesClosedForm()
    {
        var (embeddings, labels) = TwoClasses(2_000, seed: 1);
        var model = RecommendationModel.Fit(new TrainingData(embeddings, Dimension, labels), "v1");

        double Relative(float[] x)
        {
            var unit = new float[Dimension];
            UnitVectors.Normalize(x, unit);
            return model.Measure(x, unit, null).RelativeMahalanobis!.Value;
        }

        Assert.Multiple(() =>
        {
            Assert.That(Relative(SyntheticEmbeddings.Axis(Dimension, 0, 4)), Is.EqualTo(-16.0 / 17).Within(0.4));
            Assert.That(Relative(new float[Dimension]), Is.EqualTo(16).Within(1.5));
            float[] sideways = [4, 3, 0, 0, 0, 0, 0, 0];
            Assert.That(Relative(sideways), Is.EqualTo(-16.0 / 17).Within(0.6));
        });
    }

    [Test]
    public void Score_PointsBetweenClasses_RelativeSignalSeparatesThemAndBalancedRanksThemFirst()
    {
        var (embeddings, labels) = TwoClasses(500, seed: 2);
        var model = RecommendationModel.Fit(new TrainingData(embeddings, Dimension, labels), "v1");
        var (normal, _) = TwoClasses(200, seed: 3);
        var between = SyntheticEmbeddings.Around(new float[Dimension], 100, 1, seed: 4);
        var batch = new ProductionBatch(
            [.. SyntheticEmbeddings.Ids(400, "n"), .. SyntheticEmbeddings.Ids(100, "s")],
            [.. normal, .. between],
            Dimension);
        var scored = RecommendationScorer.Score(model, batch);
        bool[] shifted = [.. scored.Select(r => r.Id.StartsWith('s'))];

        var relative = scored.Select(r => r.Signal(SignalKind.RelativeMahalanobis)!.Value.Value).ToArray();
        var balanced = scored.Select(r => SignalCombiner.Score(r, RecommendationStrategy.Balanced)).ToArray();

        Assert.Multiple(() =>
        {
            Assert.That(Auroc.Compute(relative, shifted), Is.GreaterThan(0.99));
            Assert.That(Auroc.Compute(balanced, shifted), Is.GreaterThan(0.95));
            Assert.That(scored.Where(r => r.Id.StartsWith('s')).Average(r => r.Signal(SignalKind.RelativeMahalanobis)!.Value.PValue), Is.LessThan(0.05));
            Assert.That(scored.Where(r => r.Id.StartsWith('n')).Average(r => r.Signal(SignalKind.RelativeMahalanobis)!.Value.PValue), Is.GreaterThan(0.3));
        });
    }

    [Test]
    public void FitBackground_IgnoresLabels_OneClass()
    {
        var (embeddings, labels) = TwoClasses(100, seed: 5);
        var training = new TrainingData(embeddings, Dimension, labels);

        var background = MahalanobisScorer.FitBackground(training, [.. Enumerable.Range(0, training.Count)]);

        Assert.That(background.Classes, Is.EqualTo(new[] { "*" }));
    }
}
