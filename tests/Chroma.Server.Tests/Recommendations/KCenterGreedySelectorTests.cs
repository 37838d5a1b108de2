using Chroma.Server.Recommendations;
using NUnit.Framework;

namespace Chroma.Server.Tests.Recommendations;

public class KCenterGreedySelectorTests
{
    // Three records in one direction with the top scores, two in another with lower scores.
    private static readonly ReadOnlyMemory<float>[] Vectors =
    [
        new float[] { 1, 0 }, new float[] { 0.999f, 0.045f }, new float[] { 0.998f, 0.063f },
        new float[] { 0, 1 }, new float[] { 0.045f, 0.999f },
    ];

    private static readonly double[] Scores = [10, 9.9, 9.8, 6, 5.9];

    [Test]
    public void Select_NoDiversity_RanksByScore()
    {
        var picks = KCenterGreedySelector.Select(Vectors, Scores, 3, diversityWeight: 0);

        Assert.That(picks, Is.EqualTo(new[] { 0, 1, 2 }));
    }

    [Test]
    public void Select_WithDiversity_PicksOtherRegionSecond()
    {
        var picks = KCenterGreedySelector.Select(Vectors, Scores, 3, diversityWeight: 0.3);

        Assert.That(picks[0], Is.EqualTo(0));
        Assert.That(picks[1], Is.EqualTo(3));
    }

    [Test]
    public void Select_CountLargerThanCandidates_ReturnsAllOnce()
    {
        var picks = KCenterGreedySelector.Select(Vectors, Scores, 10, diversityWeight: 0.5);

        Assert.That(picks, Is.EquivalentTo(new[] { 0, 1, 2, 3, 4 }));
    }
}
