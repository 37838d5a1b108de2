using Chroma.Server.Recommendations;
using Chroma.Server.Tests.Recommendations.Data;
using MathNet.Numerics.LinearAlgebra;
using NUnit.Framework;

namespace Chroma.Server.Tests.Recommendations;

public class MahalanobisScorerTests
{
    [Test]
    public void Score_AnyPoint_MatchesExplicitInverseOfShrunkCovariance()
    {
        // Reference path: build the same class-centred rows, invert the covariance with MathNet's
        // general inverse, and evaluate (x - m)^T Sigma^-1 (x - m) directly.
        const int d = 6;
        var (embeddings, labels) = SyntheticEmbeddings.Clusters(3, 40, d, 4, seed: 3);
        var training = new TrainingData(embeddings, d, labels);
        var scorer = MahalanobisScorer.Fit(training);
        var means = Enumerable.Range(0, 3).Select(c => MeanOf(training, c.ToString(System.Globalization.CultureInfo.InvariantCulture))).ToArray();
        var centered = new float[embeddings.Length];
        for (var i = 0; i < training.Count; i++)
        {
            for (var j = 0; j < d; j++)
            {
                centered[(i * d) + j] = (float)(embeddings[(i * d) + j] - means[int.Parse(labels[i], System.Globalization.CultureInfo.InvariantCulture)][j]);
            }
        }

        var inverse = Matrix<double>.Build.DenseOfRowMajor(d, d, LedoitWolfCovariance.Estimate(centered, d, out _)).Inverse();
        float[] x = [1.5f, -2f, 0.3f, 3f, 0f, -1f];

        var (distance, nearest) = scorer.Score(x);

        var expected = means.Select(m =>
        {
            var diff = Vector<double>.Build.Dense(d, j => x[j] - m[j]);
            return Math.Sqrt(diff * inverse * diff);
        }).ToArray();
        Assert.That(distance, Is.EqualTo(expected.Min()).Within(1e-3));
        Assert.That(nearest, Is.EqualTo(Array.IndexOf(expected, expected.Min())));
    }

    [Test]
    public void Score_SameEuclideanOffset_IsLargerAlongLowVarianceAxis()
    {
        const int n = 2000;
        var random = new Random(4);
        var embeddings = new float[n * 2];
        for (var i = 0; i < n; i++)
        {
            embeddings[2 * i] = (float)(5 * random.NextGaussian());
            embeddings[(2 * i) + 1] = (float)(0.5 * random.NextGaussian());
        }

        var scorer = MahalanobisScorer.Fit(new TrainingData(embeddings, 2, Enumerable.Repeat("a", n).ToArray()));

        var alongWide = scorer.Score([3f, 0f]).Distance;
        var alongNarrow = scorer.Score([0f, 3f]).Distance;

        Assert.That(alongWide, Is.EqualTo(3.0 / 5).Within(0.1));
        Assert.That(alongNarrow, Is.GreaterThan(4 * alongWide));
    }

    [Test]
    public void Fit_ClassWithFewerSamplesThanDimensions_ScoresItsMeanAsNearest()
    {
        const int d = 40;
        var (big, bigLabels) = SyntheticEmbeddings.Clusters(2, 100, d, 8, seed: 5);
        var small = SyntheticEmbeddings.Around(SyntheticEmbeddings.Axis(d, 5, 8), 3, 1, seed: 6);
        var training = new TrainingData([.. big, .. small], d, [.. bigLabels, "small", "small", "small"]);

        var scorer = MahalanobisScorer.Fit(training);
        var (distance, nearest) = scorer.Score(SyntheticEmbeddings.Axis(d, 5, 8));

        Assert.That(double.IsFinite(distance), Is.True);
        Assert.That(scorer.Classes[nearest], Is.EqualTo("small"));
    }

    [Test]
    public void Fit_784Dimensions_ScoresAFarPointAboveATypicalOne()
    {
        // How fast the fit is, is measured by the benchmarks (tests/Chroma.Benchmarks), not asserted on a shared machine.
        const int d = 784;
        var (embeddings, labels) = SyntheticEmbeddings.Clusters(10, 150, d, 5, seed: 7);

        var scorer = MahalanobisScorer.Fit(new TrainingData(embeddings, d, labels));
        var farAway = scorer.Score(SyntheticEmbeddings.Axis(d, 700, 40)).Distance;
        var typical = scorer.Score(embeddings.AsSpan(0, d)).Distance;

        Assert.That(farAway, Is.GreaterThan(typical));
    }

    private static double[] MeanOf(TrainingData training, string label)
    {
        var mean = new double[training.Dimension];
        var count = 0;
        for (var i = 0; i < training.Count; i++)
        {
            if (training.Labels[i] == label)
            {
                count++;
                var row = training.Row(i);
                for (var j = 0; j < mean.Length; j++)
                {
                    mean[j] += row[j];
                }
            }
        }

        return mean.Select(v => v / count).ToArray();
    }
}
