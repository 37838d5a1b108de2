using Chroma.Server.Recommendations;
using NUnit.Framework;

namespace Chroma.Server.Tests.Recommendations;

public class AurocTests
{
    [Test]
    public void Compute_PerfectSeparation_IsOne()
    {
        Assert.That(Auroc.Compute([0.1, 0.2, 0.8, 0.9], [false, false, true, true]), Is.EqualTo(1));
    }

    [Test]
    public void Compute_Reversed_IsZero()
    {
        Assert.That(Auroc.Compute([0.9, 0.8, 0.2, 0.1], [false, false, true, true]), Is.EqualTo(0));
    }

    [Test]
    public void Compute_AllTied_IsOneHalf()
    {
        Assert.That(Auroc.Compute([1, 1, 1, 1, 1], [true, false, true, false, false]), Is.EqualTo(0.5));
    }

    [Test]
    public void Compute_RandomScoresWithTies_MatchesPairCounting()
    {
        var random = new Random(50);
        var scores = Enumerable.Range(0, 300).Select(_ => (double)random.Next(20)).ToArray();
        var labels = Enumerable.Range(0, 300).Select(_ => random.NextDouble() < 0.3).ToArray();
        double wins = 0;
        var pairs = 0;
        for (var i = 0; i < scores.Length; i++)
        {
            for (var j = 0; j < scores.Length; j++)
            {
                if (labels[i] && !labels[j])
                {
                    pairs++;
                    wins += scores[i] > scores[j] ? 1 : scores[i] == scores[j] ? 0.5 : 0;
                }
            }
        }

        Assert.That(Auroc.Compute(scores, labels), Is.EqualTo(wins / pairs).Within(1e-12));
    }

    [Test]
    public void Compute_OnlyPositives_Throws()
    {
        Assert.That(() => Auroc.Compute([1, 2], [true, true]), Throws.ArgumentException.With.Property("ParamName").EqualTo("isPositive"));
    }
}
