using Chroma.Server.Recommendations;
using Chroma.Server.Tests.Recommendations.Data;
using NUnit.Framework;

namespace Chroma.Server.Tests.Recommendations;

public class MmdDriftDetectorTests
{
    private const int Dimension = 16;
    private static readonly DriftOptions Options = new() { SampleSize = 300, Permutations = 100 };

    [Test]
    public void Measure_EverySampleUsed_EqualsTheUnbiasedStatisticSummedPairByPair()
    {
        // Arrange: fewer rows than the sample size, so every row is in the statistic (in an order of the detector's).
        var reference = SyntheticEmbeddings.Around(new float[Dimension], 60, 1, seed: 50);
        var recent = SyntheticEmbeddings.Around(Enumerable.Repeat(0.2f, Dimension).ToArray(), 45, 1, seed: 51);

        // Act
        var result = MmdDriftDetector.Measure(reference, recent, Dimension, new DriftOptions { SampleSize = 100, Permutations = 5 });

        // Assert: the textbook definition, k(a, b) = exp(-|a - b|^2 / bandwidth), over pairs i != j.
        double Kernel(float[] rows, int i, float[] others, int j)
        {
            double squared = 0;
            for (var t = 0; t < Dimension; t++)
            {
                double difference = rows[(i * Dimension) + t] - others[(j * Dimension) + t];
                squared += difference * difference;
            }

            return Math.Exp(-squared / result.Bandwidth);
        }

        double SumWithin(float[] rows, int count)
        {
            double sum = 0;
            for (var i = 0; i < count; i++)
            {
                for (var j = 0; j < count; j++)
                {
                    sum += i == j ? 0 : Kernel(rows, i, rows, j);
                }
            }

            return sum;
        }

        double across = 0;
        for (var i = 0; i < 60; i++)
        {
            for (var j = 0; j < 45; j++)
            {
                across += Kernel(reference, i, recent, j);
            }
        }

        var expected = (SumWithin(reference, 60) / (60 * 59.0)) + (SumWithin(recent, 45) / (45 * 44.0)) - (2 * across / (60 * 45.0));
        Assert.That(result.Mmd2, Is.EqualTo(expected).Within(1e-4).Percent, "distances are computed in single precision");
        Assert.That((result.ReferenceSamples, result.RecentSamples), Is.EqualTo((60, 45)));
    }

    [Test]
    public void Measure_UnshiftedStream_HasSmallScoreAndLargePValue()
    {
        var training = SyntheticEmbeddings.Around(new float[Dimension], 1000, 1, seed: 40);
        var production = SyntheticEmbeddings.Around(new float[Dimension], 1000, 1, seed: 41);

        var result = MmdDriftDetector.Measure(training, production, Dimension, Options);

        Assert.That(result.PValue, Is.GreaterThan(0.05));
        Assert.That(result.Mmd2, Is.LessThan(0.005));
    }

    [Test]
    public void Measure_ShiftedStream_HasLargeScoreAndTinyPValue()
    {
        var training = SyntheticEmbeddings.Around(new float[Dimension], 1000, 1, seed: 40);
        var shifted = SyntheticEmbeddings.Around(Enumerable.Repeat(0.4f, Dimension).ToArray(), 1000, 1, seed: 41);
        var unshifted = SyntheticEmbeddings.Around(new float[Dimension], 1000, 1, seed: 41);

        var drift = MmdDriftDetector.Measure(training, shifted, Dimension, Options);
        var noDrift = MmdDriftDetector.Measure(training, unshifted, Dimension, Options);

        Assert.That(drift.PValue, Is.LessThanOrEqualTo(1.0 / 101));
        Assert.That(drift.Mmd2, Is.GreaterThan(10 * Math.Max(noDrift.Mmd2, 1e-4)));
        Assert.That(drift.ReferenceSamples, Is.EqualTo(300));
        Assert.That(drift.Bandwidth, Is.GreaterThan(0));
    }

    [Test]
    public void Measure_OneRow_ThrowsNamingArgument()
    {
        Assert.That(
            () => MmdDriftDetector.Measure(new float[Dimension], new float[2 * Dimension], Dimension),
            Throws.ArgumentException.With.Property("ParamName").EqualTo("reference"));
    }
}
