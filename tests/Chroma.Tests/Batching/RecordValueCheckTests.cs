using Chroma.Batching;

namespace Chroma.Tests.Batching;

[TestFixture]
public sealed class RecordValueCheckTests
{
    private const int Length = 37; // several SIMD blocks and a scalar tail, whatever the vector width

    private static IEnumerable<TestCaseData> BadValues()
    {
        foreach (var position in new[] { 0, 7, 8, 15, 31, 32, 36 })
        {
            yield return new TestCaseData(float.NaN, position, "NaN or infinity").SetArgDisplayNames($"NaN at {position}");
            yield return new TestCaseData(float.NegativeInfinity, position, "NaN or infinity").SetArgDisplayNames($"-infinity at {position}");
            yield return new TestCaseData(-RecordValueCheck.MaxEmbeddingMagnitude, position, "2^50").SetArgDisplayNames($"-2^50 at {position}");
        }
    }

    [TestCaseSource(nameof(BadValues))]
    public void Problem_BadEmbeddingValueAnywhere_NamesIt(float bad, int position, string named)
    {
        var embedding = Enumerable.Range(0, Length).Select(i => i - 18.5f).ToArray();
        embedding[position] = bad;

        Assert.That(RecordValueCheck.Problem(embedding, default, ChromaDatasets.Production), Does.Contain(named));
    }

    [Test]
    public void Problem_GoodValues_Null()
    {
        var embedding = Enumerable.Range(0, Length).Select(i => (i % 2 == 0 ? 1 : -1) * 1.1e15f).ToArray();
        var probabilities = Enumerable.Repeat(1f / Length, Length).ToArray();

        Assert.That(RecordValueCheck.Problem(embedding, probabilities, "holdout-2"), Is.Null);
    }

    [TestCase(17)]
    [TestCase(36)]
    public void Problem_NonFiniteProbability_NamesIt(int position)
    {
        var probabilities = new float[Length];
        probabilities[position] = float.PositiveInfinity;

        Assert.That(RecordValueCheck.Problem([1f, 2f], probabilities, ChromaDatasets.Training), Does.Contain("class probabilities"));
    }
}
