using System.Numerics.Tensors;
using Chroma.Server.Cli.Report;

namespace Chroma.Server.Tests.Cli;

[TestFixture]
public sealed class PrincipalComponentsTests
{
    [Test]
    public void Fit_DataStretchedAlongKnownDirections_FindsThemInOrderWithTheirVariances()
    {
        // Points = a·u + b·v + small noise, with Var(a) = 9 and Var(b) = 1, u ⟂ v in 16 dimensions.
        var random = new Random(5);
        var u = Unit(Enumerable.Range(0, 16).Select(i => (float)Math.Sin(i + 1)).ToArray());
        var v = Enumerable.Range(0, 16).Select(i => (float)Math.Cos(3 * i)).ToArray();
        TensorPrimitives.MultiplyAdd(u, -TensorPrimitives.Dot(u, v), v, v);
        v = Unit(v);
        var rows = new List<float[]>();
        for (var i = 0; i < 2000; i++)
        {
            var a = 3 * Gaussian(random);
            var b = Gaussian(random);
            rows.Add(Enumerable.Range(0, 16).Select(d => (float)((a * u[d]) + (b * v[d]) + (0.01 * Gaussian(random)))).ToArray());
        }

        var pca = PrincipalComponents.Fit(rows);
        var (x, y) = pca.Project(u);
        var (x2, y2) = pca.Project(v);
        var centre = pca.Project(new float[16]);

        Assert.Multiple(() =>
        {
            Assert.That(pca.Variances[0], Is.EqualTo(9).Within(0.8));
            Assert.That(pca.Variances[1], Is.EqualTo(1).Within(0.1));
            // u lands (up to sign) on the first axis, v on the second.
            Assert.That(Math.Abs(x - centre.X), Is.EqualTo(1).Within(0.02));
            Assert.That(Math.Abs(y - centre.Y), Is.LessThan(0.05));
            Assert.That(Math.Abs(y2 - centre.Y), Is.EqualTo(1).Within(0.02));
            Assert.That(Math.Abs(x2 - centre.X), Is.LessThan(0.05));
        });
    }

    [TestCase(1e13f)]
    [TestCase(3.4e14f)]
    public void Fit_OneHugeButAcceptedValue_FindsItsDirectionAndSpreadsThePoints(float huge)
    {
        // Arrange: 200 ordinary 8-d rows and one whose first component is huge (ingest accepts values below 2^50).
        // Before, the squares overflowed a float: every variance came out 0 and every point on one spot.
        var random = new Random(3);
        var rows = Enumerable.Range(0, 200).Select(_ => Enumerable.Range(0, 8).Select(_ => (float)Gaussian(random)).ToArray()).ToList();
        var outlier = new float[8];
        outlier[0] = huge;
        rows.Add(outlier);

        // Act
        var pca = PrincipalComponents.Fit(rows);
        var points = rows.Select(r => pca.Project(r)).ToList();

        // Assert: the outlier's direction carries all but nothing of the variance (huge² / 201 about), the others
        // differ along the second component.
        var expected = (double)huge * huge * 200 / 201 / 200;
        Assert.Multiple(() =>
        {
            Assert.That(pca.Variances[0], Is.EqualTo(expected).Within(1).Percent);
            Assert.That(pca.Variances[1], Is.GreaterThan(0.5).And.LessThan(5));
            Assert.That(points.Take(200).Select(p => Math.Round(p.Y, 3)).Distinct().Count(), Is.GreaterThan(150));
            Assert.That(points.All(p => double.IsFinite(p.X) && double.IsFinite(p.Y)), Is.True);
        });
    }

    [Test]
    public void Fit_IdenticalRows_ProjectsEveryRowToTheSamePoint()
    {
        var rows = Enumerable.Repeat(new[] { 1f, 2f, 3f }, 5).ToList();

        var pca = PrincipalComponents.Fit(rows);

        Assert.That(pca.Project(rows[0]), Is.EqualTo((0.0, 0.0)));
        Assert.That(pca.Variances, Is.All.EqualTo(0));
    }

    [Test]
    public void Fit_RowsOfDifferentLength_ErrorSaysWhichLength()
    {
        var rows = new List<float[]> { new float[3], new float[4] };

        Assert.That(() => PrincipalComponents.Fit(rows), Throws.ArgumentException.With.Message.Contains("every row needs 3 values; one has 4"));
    }

    private static float[] Unit(float[] vector)
    {
        TensorPrimitives.Divide(vector, TensorPrimitives.Norm(vector), vector);
        return vector;
    }

    private static double Gaussian(Random random) =>
        Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
}
