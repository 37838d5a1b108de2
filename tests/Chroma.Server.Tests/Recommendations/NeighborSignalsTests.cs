using Chroma.Server.Recommendations;
using NUnit.Framework;

namespace Chroma.Server.Tests.Recommendations;

public class NeighborSignalsTests
{
    private static readonly string[] Labels = ["3", "3", "3", "3", "4", "4", "4", "4", "4", "4", "7"];

    [Test]
    public void From_SixOfTenNeighboursAnotherClass_ReportsShareAndDominantClass()
    {
        var neighbors = Enumerable.Range(0, 10).Select(i => (i, (float)i)).ToArray();

        var signals = NeighborSignals.From(neighbors, Labels, predictedClass: "3");

        Assert.That(signals.MeanDistance, Is.EqualTo(4.5));
        Assert.That(signals.Disagreement, Is.EqualTo(0.6));
        Assert.That(signals.NeighborCount, Is.EqualTo(10));
        Assert.That(signals.DominantOtherClass, Is.EqualTo("4"));
        Assert.That(signals.DominantOtherCount, Is.EqualTo(6));
    }

    [Test]
    public void From_NoPrediction_UsesMajorityAsReference()
    {
        (int, float)[] neighbors = [(4, 1f), (5, 1f), (6, 1f), (0, 1f), (10, 1f)];

        var signals = NeighborSignals.From(neighbors, Labels, predictedClass: null);

        Assert.That(signals.Disagreement, Is.EqualTo(0.4).Within(1e-12));
        Assert.That(signals.DominantOtherClass, Is.EqualTo("3"));
        Assert.That(signals.DominantOtherCount, Is.EqualTo(1));
    }

    [Test]
    public void From_AllAgree_HasNoOtherClass()
    {
        (int, float)[] neighbors = [(0, 1f), (1, 3f)];

        var signals = NeighborSignals.From(neighbors, Labels, predictedClass: "3");

        Assert.That(signals.Disagreement, Is.Zero);
        Assert.That(signals.DominantOtherClass, Is.Null);
        Assert.That(signals.MeanDistance, Is.EqualTo(2));
    }
}
