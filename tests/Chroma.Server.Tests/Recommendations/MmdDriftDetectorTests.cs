using Chroma.Server.Recommendations;
using Chroma.Server.Tests.Recommendations.Data;
using NUnit.Framework;

namespace Chroma.Server.Tests.Recommendations;

public class MmdDriftDetectorTests
{
    private const int Dimension = 16;
    private static readonly DriftOptions Options = new() { SampleSize = 300, Permutations = 100 };

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
