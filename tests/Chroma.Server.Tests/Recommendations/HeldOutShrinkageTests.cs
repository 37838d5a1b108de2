using Chroma.Server.Recommendations;
using Chroma.Server.Tests.Recommendations.Data;

namespace Chroma.Server.Tests.Recommendations;

/// <summary>The shrinkage chosen by the held-out rows' likelihood, on Gaussians whose covariance is known.</summary>
public sealed class HeldOutShrinkageTests
{
    private const int Dimension = 24;

    [Test]
    public void LogLikelihood_UnitVariancesAndNoShrinkage_IsMinusTheMeanSquares()
    {
        var likelihood = HeldOutShrinkage.LogLikelihood([1, 1, 1], [0.5, 2, 1], mu: 1, s: 0);

        Assert.That(likelihood, Is.EqualTo(-3.5).Within(1e-12));
    }

    [Test]
    public void LogLikelihood_ZeroVarianceLeftUnshrunk_IsMinusInfinity() =>
        Assert.That(HeldOutShrinkage.LogLikelihood([1, 0], [1, 1], mu: 0.5, s: 0), Is.EqualTo(double.NegativeInfinity));

    [Test]
    public void Fit_ManyRowsAndVariancesFarApart_ShrinksLessThanLedoitWolfAndSeesAShiftAlongTheSmallestVariance()
    {
        // Arrange: variances from 4 down to 0.01 (as probe P's 64-d classes), 3,000 fitted and 1,000 held-out rows.
        var (training, fitRows, heldOut) = Anisotropic(fitted: 3_000, heldOut: 1_000, seed: 3);
        var shifted = new float[Dimension];
        shifted[Dimension - 1] = 6 * 0.1f; // six standard deviations along the smallest variance (0.01)

        // Act
        var ledoitWolf = MahalanobisScorer.Fit(training, fitRows);
        var chosen = MahalanobisScorer.Fit(training, fitRows, heldOut);

        // Assert: the true distance is 6; Ledoit-Wolf's lifted smallest variance hides most of it.
        Assert.Multiple(() =>
        {
            Assert.That(chosen.Shrinkage, Is.LessThan(ledoitWolf.Shrinkage / 4), "the held-out rows allow far less shrinkage");
            Assert.That(chosen.Score(shifted).Distance, Is.EqualTo(6).Within(0.6), "close to the true Mahalanobis distance");
            Assert.That(ledoitWolf.Score(shifted).Distance, Is.LessThan(chosen.Score(shifted).Distance - 0.5));
        });
    }

    [Test]
    public void Fit_FewRowsForTheDimension_ShrinksMoreThanWithManyRows()
    {
        // Arrange: 40 fitted rows in 24 dimensions: the sample covariance's smallest eigenvalues are far too small.
        var (few, fewRows, fewHeldOut) = Anisotropic(fitted: 40, heldOut: 200, seed: 4);
        var (many, manyRows, manyHeldOut) = Anisotropic(fitted: 3_000, heldOut: 200, seed: 4);

        // Act
        var fromFew = MahalanobisScorer.Fit(few, fewRows, fewHeldOut).Shrinkage;
        var fromMany = MahalanobisScorer.Fit(many, manyRows, manyHeldOut).Shrinkage;

        // Assert
        Assert.That(fromFew, Is.GreaterThan(10 * fromMany));
    }

    [Test]
    public void Fit_TooFewHeldOutRows_KeepsLedoitWolf()
    {
        var (training, fitRows, heldOut) = Anisotropic(fitted: 500, heldOut: HeldOutShrinkage.MinimumRows - 1, seed: 5);

        var withHeldOut = MahalanobisScorer.Fit(training, fitRows, heldOut).Shrinkage;

        Assert.That(withHeldOut, Is.EqualTo(MahalanobisScorer.Fit(training, fitRows).Shrinkage));
    }

    // One class, zero mean, independent coordinates with standard deviations from 2 down to 0.1 (variances 4 to 0.01).
    private static (TrainingData Training, int[] FitRows, int[] HeldOut) Anisotropic(int fitted, int heldOut, int seed)
    {
        var random = new Random(seed);
        var n = fitted + heldOut;
        var embeddings = new float[n * Dimension];
        for (var i = 0; i < n; i++)
        {
            for (var j = 0; j < Dimension; j++)
            {
                var deviation = Math.Pow(10, Math.Log10(2) - ((Math.Log10(2) + 1) * j / (Dimension - 1)));
                embeddings[(i * Dimension) + j] = (float)(deviation * random.NextGaussian());
            }
        }

        var training = new TrainingData(embeddings, Dimension, Enumerable.Repeat("a", n).ToArray());
        return (training, [.. Enumerable.Range(0, fitted)], [.. Enumerable.Range(fitted, heldOut)]);
    }
}
