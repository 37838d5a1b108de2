using Chroma.Server.Recommendations;
using Chroma.Server.Tests.Recommendations.Data;
using MathNet.Numerics.LinearAlgebra;
using NUnit.Framework;

namespace Chroma.Server.Tests.Recommendations;

public class LedoitWolfCovarianceTests
{
    [Test]
    public void Estimate_HandWorkedThreePoints_ShrinksFullyToScaledIdentity()
    {
        // Rows (1,0), (0,1), (-1,-1): S = [[2,1],[1,2]]/3, mu = 2/3, delta = 1/9,
        // beta = min(1/9, (6/3 - 10/9) / (2*3)) = 1/9, so s = 1 and Sigma = (2/3) I.
        float[] centered = [1, 0, 0, 1, -1, -1];

        var covariance = LedoitWolfCovariance.Estimate(centered, 2, out var shrinkage);

        Assert.That(shrinkage, Is.EqualTo(1).Within(1e-9));
        Assert.That(covariance, Is.EqualTo(new[] { 2.0 / 3, 0, 0, 2.0 / 3 }).Within(1e-9));
    }

    [Test]
    public void Estimate_ManySamplesStronglyAnisotropic_KeepsSampleCovariance()
    {
        var random = new Random(1);
        const int n = 5000;
        var centered = new float[n * 2];
        for (var i = 0; i < n; i++)
        {
            centered[2 * i] = (float)(10 * random.NextGaussian());
            centered[(2 * i) + 1] = (float)(0.1 * random.NextGaussian());
        }

        var covariance = LedoitWolfCovariance.Estimate(centered, 2, out var shrinkage);

        Assert.That(shrinkage, Is.LessThan(0.01));
        Assert.That(covariance[0], Is.EqualTo(100).Within(5));
        Assert.That(covariance[3], Is.LessThan(1));
    }

    [Test]
    public void Estimate_FewerSamplesThanDimensions_IsPositiveDefinite()
    {
        const int d = 50;
        var random = new Random(2);
        var centered = Enumerable.Range(0, 10 * d).Select(_ => (float)random.NextGaussian()).ToArray();

        var covariance = LedoitWolfCovariance.Estimate(centered, d, out var shrinkage);
        var eigenvalues = Matrix<double>.Build.DenseOfRowMajor(d, d, covariance).Evd().EigenValues.Select(e => e.Real);

        Assert.That(shrinkage, Is.GreaterThan(0));
        Assert.That(eigenvalues.Min(), Is.GreaterThan(0));
    }

    [Test]
    public void Estimate_MoreRowsThanOneBlock_MatchesDirectSum()
    {
        const int d = 3;
        const int n = 9000;
        var random = new Random(3);
        var centered = Enumerable.Range(0, n * d).Select(_ => (float)random.NextGaussian()).ToArray();
        var direct = new double[d * d];
        for (var i = 0; i < n; i++)
        {
            for (var a = 0; a < d; a++)
            {
                for (var b = 0; b < d; b++)
                {
                    direct[(a * d) + b] += (double)centered[(i * d) + a] * centered[(i * d) + b] / n;
                }
            }
        }

        var covariance = LedoitWolfCovariance.Estimate(centered, d, out var shrinkage);

        var mu = (direct[0] + direct[4] + direct[8]) / d;
        var expected = direct.Select((v, k) => ((1 - shrinkage) * v) + (k % (d + 1) == 0 ? shrinkage * mu : 0));
        Assert.That(covariance, Is.EqualTo(expected).Within(1e-9));
    }

    [Test]
    public void Estimate_AllZero_ReturnsIdentity()
    {
        var covariance = LedoitWolfCovariance.Estimate(new float[6], 2, out var shrinkage);

        Assert.That(shrinkage, Is.EqualTo(1));
        Assert.That(covariance, Is.EqualTo(new double[] { 1, 0, 0, 1 }));
    }
}
