using Chroma.Server.Recommendations;
using NUnit.Framework;

namespace Chroma.Server.Tests.Recommendations;

public class DotProductsTests
{
    [TestCase(128, 64)]
    [TestCase(13, 7)]
    [TestCase(3, 5)]
    public void Block_AnyShape_MatchesScalarDotProducts(int dimension, int rowCount)
    {
        var random = new Random(dimension);
        var query = Enumerable.Range(0, dimension).Select(_ => (float)random.NextDouble() - 0.5f).ToArray();
        var rows = Enumerable.Range(0, dimension * rowCount).Select(_ => (float)random.NextDouble() - 0.5f).ToArray();
        var dots = new float[rowCount];

        DotProducts.Block(query, rows, dots);

        for (var r = 0; r < rowCount; r++)
        {
            var expected = Enumerable.Range(0, dimension).Sum(j => (double)query[j] * rows[(r * dimension) + j]);
            Assert.That(dots[r], Is.EqualTo(expected).Within(1e-4), $"row {r}");
        }
    }
}
