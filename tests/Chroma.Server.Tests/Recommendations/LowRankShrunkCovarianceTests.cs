using Chroma.Server.Recommendations;
using Chroma.Server.Tests.Recommendations.Data;
using MathNet.Numerics.LinearAlgebra;
using NUnit.Framework;

namespace Chroma.Server.Tests.Recommendations;

/// <summary>
/// The low-rank (Woodbury) form of the shrunk covariance gives the distances of the dense form, and is the one used
/// where the fitted rows are at most half the dimension.
/// </summary>
public class LowRankShrunkCovarianceTests
{
    [TestCase(64, 20, 3, 1)]
    [TestCase(128, 30, 1, 2)]
    [TestCase(96, 12, 4, 3)]
    [TestCase(50, 49, 2, 4)]
    public void Score_LowRankAndDense_GiveTheSameDistances(int d, int n, int classes, int seed)
    {
        // Arrange: anisotropic clusters, so the shrinkage is neither 0 nor 1.
        var training = Anisotropic(d, n, classes, seed);
        var rows = Enumerable.Range(0, n).ToArray();
        var points = Points(d, 20, seed + 100, training);

        foreach (var labelled in new[] { true, false })
        {
            // Act
            var dense = MahalanobisScorer.Fit(training, rows, labelled, MahalanobisScorer.Form.Dense);
            var lowRank = MahalanobisScorer.Fit(training, rows, labelled, MahalanobisScorer.Form.LowRank);
            var reference = ExactDistances(training, rows, labelled, dense.Shrinkage);

            // Assert: the low-rank form matches the double-precision reference to 1e-6; the dense form whitens in float.
            Assert.That(lowRank.Shrinkage, Is.EqualTo(dense.Shrinkage).Within(1e-9), $"labelled {labelled}");
            foreach (var point in points)
            {
                var (lowDistance, lowNearest) = lowRank.Score(point);
                var (denseDistance, denseNearest) = dense.Score(point);
                var expected = reference(point);
                Assert.That(RelativeDifference(lowDistance, expected), Is.LessThan(1e-6), $"labelled {labelled}: low rank vs exact");
                Assert.That(RelativeDifference(lowDistance, denseDistance), Is.LessThan(1e-4), $"labelled {labelled}: low rank vs dense");
                Assert.That(lowNearest, Is.EqualTo(denseNearest), $"labelled {labelled}: nearest class");
            }
        }
    }

    [Test]
    public void Fit_FewRowsManyDimensions_UsesLowRankAndScoresTheMeansNearest()
    {
        // Arrange: the probe's wide set: 2048 dimensions, 24 fitted rows in 2 classes.
        const int d = 2048;
        var training = Anisotropic(d, 24, 2, seed: 9);
        var meanA = Mean(training, "0");
        var meanB = Mean(training, "1");
        var far = meanA.Select(x => x + 5f).ToArray();

        // Act
        var scorer = MahalanobisScorer.Fit(training);
        var background = MahalanobisScorer.FitBackground(training, [.. Enumerable.Range(0, 24)]);

        // Assert
        Assert.Multiple(() =>
        {
            Assert.That(scorer.UsesLowRank && background.UsesLowRank, Is.True);
            Assert.That(scorer.Score(meanA).Distance, Is.LessThan(1e-3));
            Assert.That(scorer.Score(meanA).NearestClass, Is.EqualTo(0));
            Assert.That(scorer.Score(meanB).NearestClass, Is.EqualTo(1));
            Assert.That(scorer.Score(far).Distance, Is.GreaterThan(10 * scorer.Score(training.Row(0)).Distance));
            Assert.That(double.IsFinite(background.Score(far).Distance), Is.True);
        });
    }

    [Test]
    public void Fit_RowsAboveHalfTheDimension_KeepsTheDensePath()
    {
        var training = Anisotropic(16, 9, 2, seed: 1);

        Assert.Multiple(() =>
        {
            Assert.That(MahalanobisScorer.Fit(training).UsesLowRank, Is.False);
            Assert.That(MahalanobisScorer.Fit(training, [.. Enumerable.Range(0, 8)]).UsesLowRank, Is.True);
        });
    }

    private static double RelativeDifference(double a, double b) => Math.Abs(a - b) / Math.Max(Math.Abs(b), 1e-12);

    private static TrainingData Anisotropic(int d, int n, int classes, int seed)
    {
        var random = new Random(seed);
        var scales = Enumerable.Range(0, d).Select(j => 0.2 + (3.0 * random.NextDouble())).ToArray();
        var centers = Enumerable.Range(0, classes).Select(_ => Enumerable.Range(0, d).Select(_ => 4 * random.NextGaussian()).ToArray()).ToArray();
        var embeddings = new float[n * d];
        var labels = new string[n];
        for (var i = 0; i < n; i++)
        {
            var c = i % classes;
            labels[i] = c.ToString(System.Globalization.CultureInfo.InvariantCulture);
            for (var j = 0; j < d; j++)
            {
                embeddings[(i * d) + j] = (float)(centers[c][j] + (scales[j] * random.NextGaussian()));
            }
        }

        return new TrainingData(embeddings, d, labels);
    }

    private static float[][] Points(int d, int count, int seed, TrainingData training)
    {
        // Random points, and points on the rows' span (training rows and their midpoints), where cancellation would show.
        var random = new Random(seed);
        var points = Enumerable.Range(0, count).Select(_ => Enumerable.Range(0, d).Select(_ => (float)(5 * random.NextGaussian())).ToArray()).ToList();
        points.Add(training.Row(0).ToArray());
        points.Add(training.Row(1).ToArray().Zip(training.Row(2).ToArray(), (a, b) => (a + b) / 2).ToArray());
        return [.. points];
    }

    private static float[] Mean(TrainingData training, string label)
    {
        var rows = Enumerable.Range(0, training.Count).Where(i => training.Labels[i] == label).ToArray();
        var mean = new double[training.Dimension];
        foreach (var row in rows)
        {
            var values = training.Row(row);
            for (var j = 0; j < mean.Length; j++)
            {
                mean[j] += values[j];
            }
        }

        return [.. mean.Select(x => (float)(x / rows.Length))];
    }

    // (x - m)^T Sigma^-1 (x - m) with Sigma = (1 - s) S + s mu I built and inverted in double precision.
    private static Func<float[], double> ExactDistances(TrainingData training, int[] rows, bool labelled, double shrinkage)
    {
        var d = training.Dimension;
        var groups = rows.GroupBy(i => labelled ? training.Labels[i] : "*").OrderBy(g => g.Key, StringComparer.Ordinal).ToArray();
        var means = groups.Select(g => Enumerable.Range(0, d).Select(j => g.Average(i => (double)training.Row(i)[j])).ToArray()).ToArray();
        var s = Matrix<double>.Build.Dense(d, d);
        for (var g = 0; g < groups.Length; g++)
        {
            foreach (var i in groups[g])
            {
                var centred = Vector<double>.Build.Dense(d, j => (float)(training.Row(i)[j] - means[g][j]));
                s += centred.OuterProduct(centred);
            }
        }

        s /= rows.Length;
        var mu = s.Trace() / d;
        var inverse = ((s * (1 - shrinkage)) + (Matrix<double>.Build.DenseIdentity(d) * (shrinkage * mu))).Inverse();
        return x => means.Min(m =>
        {
            var diff = Vector<double>.Build.Dense(d, j => x[j] - (double)(float)m[j]);
            return Math.Sqrt(diff * inverse * diff);
        });
    }
}
