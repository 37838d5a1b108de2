using Chroma.Server.Recommendations;
using NUnit.Framework;

namespace Chroma.Server.Tests.Recommendations;

public class NearDuplicateGrouperTests
{
    [Test]
    public void Group_ChainOfNearCopies_FormsOneGroupOthersStayAlone()
    {
        // Unit vectors at angles 0, 0.03, 0.06 rad chain together (each step 0.03 < 0.05);
        // 0.5 rad and 1.5 rad are far from everything.
        double[] angles = [0, 1.5, 0.03, 0.5, 0.06];
        var vectors = angles.Select(a => new ReadOnlyMemory<float>([(float)Math.Cos(a), (float)Math.Sin(a)])).ToArray();

        var groups = NearDuplicateGrouper.Group(vectors, 0.05);

        Assert.That(groups, Has.Count.EqualTo(3));
        Assert.That(groups[0], Is.EqualTo(new[] { 0, 2, 4 }));
        Assert.That(groups[1], Is.EqualTo(new[] { 1 }));
        Assert.That(groups[2], Is.EqualTo(new[] { 3 }));
    }

    [Test]
    public void Group_ZeroThreshold_GroupsOnlyIdenticalVectors()
    {
        ReadOnlyMemory<float>[] vectors = [new float[] { 1, 0 }, new float[] { 0, 1 }, new float[] { 1, 0 }];

        var groups = NearDuplicateGrouper.Group(vectors, 0);

        Assert.That(groups, Has.Count.EqualTo(2));
        Assert.That(groups[0], Is.EqualTo(new[] { 0, 2 }));
    }
}
