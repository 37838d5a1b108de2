using Chroma.Server.Recommendations;
using Chroma.Server.Tests.Recommendations.Data;
using NUnit.Framework;

namespace Chroma.Server.Tests.Recommendations;

/// <summary>
/// Real data: MNIST digits are training and in-distribution production, notMNIST letters are
/// out-of-distribution production. Raw pixels through a fixed 128-d random projection, no trained
/// network. Measured on this data (see the report): Mahalanobis 0.999, kNN 0.997, boundary 0.79,
/// combined Balanced 1.000; the floors leave room for platform rounding, not for regressions.
/// </summary>
public class LetterVsDigitTests
{
    private static ExperimentResult? _result;

    private static ExperimentResult Result => _result ??= LetterVsDigitExperiment.Run(
        LetterVsDigitExperiment.FindDataDirectory(TestContext.CurrentContext.TestDirectory),
        trainCount: 6000,
        digitCount: 1000,
        letterCount: 1000,
        projectTo: 128);

    [TestCase("mahalanobis", 0.99)]
    [TestCase("knn_distance", 0.99)]
    [TestCase("boundary", 0.7)]
    [TestCase("combined_Balanced", 0.995)]
    [TestCase("combined_OutOfDistribution", 0.995)]
    public void Run_LettersAmongDigits_RankAboveDigits(string signal, double floor)
    {
        Assert.That(Result.Auroc[signal], Is.GreaterThan(floor));
    }

    [Test]
    public void Run_HeldOutDigits_HaveCalibratedPercentiles()
    {
        // Production digits come from the training distribution, so their percentiles against
        // held-out training digits should be spread over 0..1 with a mean near one half.
        var digits = Result.Scored.Where(r => r.Id.StartsWith("digit", StringComparison.Ordinal)).ToArray();
        var letters = Result.Scored.Where(r => r.Id.StartsWith("letter", StringComparison.Ordinal)).ToArray();

        var digitMean = digits.Average(r => r.Signal(SignalKind.Mahalanobis)!.Value.Percentile);
        var lettersAbove99 = letters.Count(r => r.Signal(SignalKind.Mahalanobis)!.Value.Percentile >= 0.99) / (double)letters.Length;

        Assert.That(digitMean, Is.InRange(0.35, 0.65));
        Assert.That(lettersAbove99, Is.GreaterThan(0.8));
    }

    [Test]
    public void Measure_DigitsVersusLettersOrMoreDigits_DetectsDriftOnlyForLetters()
    {
        var (training, letters, digits) = LetterVsDigitExperiment.DriftSamples(
            LetterVsDigitExperiment.FindDataDirectory(TestContext.CurrentContext.TestDirectory), count: 1000);
        var options = new DriftOptions { SampleSize = 300, Permutations = 100 };

        var toLetters = MmdDriftDetector.Measure(training, letters, 784, options);
        var toDigits = MmdDriftDetector.Measure(training, digits, 784, options);

        Assert.That(toLetters.PValue, Is.LessThanOrEqualTo(1.0 / 101));
        Assert.That(toDigits.PValue, Is.GreaterThan(0.05));
        Assert.That(toLetters.Mmd2, Is.GreaterThan(10 * Math.Max(toDigits.Mmd2, 1e-4)));
    }

    [Test]
    public void Rank_TopTwenty_AreLettersWithReasons()
    {
        var ranked = RecommendationRanker.Rank(Result.Scored, RecommendationStrategy.Balanced, 20);

        Assert.That(ranked, Has.Count.EqualTo(20));
        Assert.That(ranked.Select(r => r.Id), Is.All.StartWith("letter"));
        Assert.That(ranked.Select(r => r.Reasons.Count), Is.All.GreaterThan(0));
    }
}
