using Chroma.Server.Recommendations.Internal;

namespace Chroma.Server.Tests.Recommendations;

public sealed class TopScoresTests
{
    [TestCase(0)]
    [TestCase(1)]
    [TestCase(7)]
    [TestCase(100)]
    [TestCase(999)]
    [TestCase(1000)]
    [TestCase(5000)]
    public void Select_ScoresWithManyTies_EqualsThePrefixOfAFullSortByScoreThenId(int count)
    {
        // Few distinct scores, so most comparisons are ties decided by the id.
        var random = new Random(17);
        var scores = Enumerable.Range(0, 1000).Select(_ => (double)random.Next(12)).ToArray();
        var ids = Enumerable.Range(0, 1000).Select(i => $"r{random.Next(100_000):D5}-{i}").ToArray();
        var expected = Enumerable.Range(0, scores.Length)
            .OrderByDescending(i => scores[i])
            .ThenBy(i => ids[i], StringComparer.Ordinal)
            .Take(count)
            .ToArray();

        var selected = TopScores.Select(scores, i => ids[i], count);

        Assert.That(selected, Is.EqualTo(expected));
    }

    [Test]
    public void Select_EqualScores_BreaksTiesByOrdinalIdNotCulture()
    {
        double[] scores = [1, 1, 1];
        string[] ids = ["b", "B", "a"];

        var selected = TopScores.Select(scores, i => ids[i], 3);

        Assert.That(selected.Select(i => ids[i]), Is.EqualTo(new[] { "B", "a", "b" }));
    }

    [Test]
    public void Select_NegativeCount_Throws() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => TopScores.Select([1.0], _ => "a", -1));
}
