using Chroma.Server.Recommendations;

namespace Chroma.Server.Tests.Recommendations;

/// <summary>A scored record keeps its unit embedding in half precision: close enough for the ranking's distances.</summary>
[TestFixture]
public sealed class ScoredRecordUnitTests
{
    [Test]
    public void UnitEmbedding_HalfPrecision_CosineDistancesWithin1e3OfTheFloatOnes()
    {
        // Arrange: 50 random unit vectors of 128 dimensions.
        var random = new Random(5);
        var units = Enumerable.Range(0, 50).Select(_ => Unit([.. Enumerable.Range(0, 128).Select(_ => (float)(random.NextDouble() - 0.5))])).ToArray();
        var records = units.Select((u, i) => Record(i, u)).ToArray();

        // Act
        var worst = 0.0;
        for (var a = 0; a < units.Length; a++)
        {
            for (var b = a + 1; b < units.Length; b++)
            {
                var exact = 1 - Dot(units[a], units[b]);
                var kept = 1 - Dot(records[a].UnitEmbedding.ToArray(), records[b].UnitEmbedding.ToArray());
                worst = Math.Max(worst, Math.Abs(exact - kept));
            }
        }

        // Assert
        var copied = new float[128];
        records[0].CopyUnitTo(copied);
        Assert.Multiple(() =>
        {
            Assert.That(worst, Is.LessThan(1e-3), "far inside the near-duplicate threshold of 0.05");
            Assert.That(records[0].Dimension, Is.EqualTo(128));
            Assert.That(copied, Is.EqualTo(records[0].UnitEmbedding.ToArray()));
            Assert.That(records[0].UnitEmbedding.ToArray(), Is.EqualTo(units[0]).Within(1e-3));
        });
    }

    private static ScoredRecord Record(int i, float[] unit) =>
        new($"r{i}", "v1", unit, null, new EmbeddingMeasurement(1, "0", new NeighborSignals(1, 0, 10, null, 0)), null, []);

    private static float[] Unit(float[] v)
    {
        var norm = MathF.Sqrt(v.Sum(x => x * x));
        return [.. v.Select(x => x / norm)];
    }

    private static double Dot(float[] a, float[] b) => a.Select((x, i) => (double)x * b[i]).Sum();
}
