using Chroma.Server.Recommendations;
using NUnit.Framework;

namespace Chroma.Server.Tests.Recommendations;

public class PredictionUncertaintyTests
{
    [Test]
    public void From_Uniform_IsMaximallyUncertain()
    {
        var u = PredictionUncertainty.From([0.25f, 0.25f, 0.25f, 0.25f]);

        Assert.That(u.Entropy, Is.EqualTo(Math.Log(4)).Within(1e-6));
        Assert.That(u.NormalizedEntropy, Is.EqualTo(1).Within(1e-6));
        Assert.That(u.Margin, Is.EqualTo(1).Within(1e-6));
        Assert.That(u.LeastConfidence, Is.EqualTo(0.75).Within(1e-6));
        Assert.That(u.NormalizedLeastConfidence, Is.EqualTo(1).Within(1e-6));
    }

    [Test]
    public void From_OneHot_IsCertain()
    {
        var u = PredictionUncertainty.From([0f, 1f, 0f]);

        Assert.That(u.Entropy, Is.Zero);
        Assert.That(u.Margin, Is.Zero);
        Assert.That(u.LeastConfidence, Is.Zero);
        Assert.That(u.TopClass, Is.EqualTo(1));
    }

    [Test]
    public void From_TopTwoClose_MarginNearOne()
    {
        var u = PredictionUncertainty.From([0.21f, 0.41f, 0.38f]);

        Assert.That(u.TopProbability, Is.EqualTo(0.41).Within(1e-6));
        Assert.That(u.SecondProbability, Is.EqualTo(0.38).Within(1e-6));
        Assert.That(u.Margin, Is.EqualTo(0.97).Within(1e-6));
        Assert.That(u.LeastConfidence, Is.EqualTo(0.59).Within(1e-6));
        var expectedEntropy = -((0.21 * Math.Log(0.21)) + (0.41 * Math.Log(0.41)) + (0.38 * Math.Log(0.38)));
        Assert.That(u.Entropy, Is.EqualTo(expectedEntropy).Within(1e-6));
    }

    [Test]
    public void From_UnnormalisedScores_RescalesToSumOne()
    {
        var u = PredictionUncertainty.From([2f, 2f]);

        Assert.That(u.TopProbability, Is.EqualTo(0.5));
        Assert.That(u.Margin, Is.EqualTo(1));
    }

    [Test]
    public void ThrowIfInvalid_NegativeProbability_ThrowsNamingRecord()
    {
        Assert.That(
            () => PredictionUncertainty.ThrowIfInvalid([0.5f, -0.1f], 7),
            Throws.ArgumentException.With.Message.Contains("probabilities[7]"));
    }
}
