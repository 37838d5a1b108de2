using Chroma.Server.Indexing;

namespace Chroma.Server.Tests.Indexing;

/// <summary>The beam of a search at a set's default breadth, which is picked for 10 neighbours, for other k.</summary>
[TestFixture]
public sealed class DefaultBeamTests
{
    [TestCase(64, 1, 64)]
    [TestCase(64, 10, 64)]
    [TestCase(768, 10, 768)]
    [TestCase(64, 20, 84)] // 64 x (1 + log10 2) = 83.3
    [TestCase(64, 100, 200)] // k x 2
    [TestCase(768, 100, 1_536)] // breadth x 2
    [TestCase(64, 1_000, 3_000)] // k x 3
    [TestCase(1_024, 1_000, 3_072)]
    [TestCase(1_024, 5_000, 10_000)] // capped at the widest a request may ask for
    public void DefaultBeam_BreadthAndK_WidensWithTheLogOfKOverTen(int breadth, int k, int beam) =>
        Assert.That(HnswVectorIndex.DefaultBeam(breadth, k), Is.EqualTo(beam));
}
