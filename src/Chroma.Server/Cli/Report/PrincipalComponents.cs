using System.Numerics.Tensors;

namespace Chroma.Server.Cli.Report;

/// <summary>
/// A 2-D projection of embeddings onto their first two principal components, found by power
/// iteration on the covariance (applied as Xᵀ(Xv), never formed, so it costs O(n·d) per step and
/// works for any dimension) with deflation for the second component.
/// </summary>
internal sealed class PrincipalComponents
{
    private const int MaxIterations = 200;
    private const double Tolerance = 1e-9;

    private readonly float[] _mean;
    private readonly float[][] _components;

    private PrincipalComponents(float[] mean, float[][] components, double[] variances)
    {
        _mean = mean;
        _components = components;
        Variances = variances;
    }

    /// <summary>Gets the variance along each component (eigenvalues of the covariance).</summary>
    public IReadOnlyList<double> Variances { get; }

    /// <summary>Fits two components to <paramref name="rows"/> (equal lengths, at least one row); <paramref name="seed"/> fixes the start vector.</summary>
    public static PrincipalComponents Fit(IReadOnlyList<float[]> rows, int seed = 17)
    {
        ArgumentNullException.ThrowIfNull(rows);
        ArgumentOutOfRangeException.ThrowIfZero(rows.Count, nameof(rows));
        var dimension = rows[0].Length;
        var mean = new float[dimension];
        foreach (var row in rows)
        {
            if (row.Length != dimension)
            {
                throw new ArgumentException($"every row needs {dimension} values; one has {row.Length}.", nameof(rows));
            }

            TensorPrimitives.Add(mean, row, mean);
        }

        TensorPrimitives.Divide(mean, rows.Count, mean);
        // In double: the iteration sums squares of products of values, which overflow a float from about 1e9 on (a
        // record with a component of 1e13, which ingest accepts, left every variance at 0 and every point on one spot).
        var centered = rows.Select(r =>
        {
            var c = new double[dimension];
            for (var i = 0; i < dimension; i++)
            {
                c[i] = (double)r[i] - mean[i];
            }

            return c;
        }).ToArray();

#pragma warning disable CA5394 // Seeded start vector for a reproducible picture, not security.
        var random = new Random(seed);
#pragma warning restore CA5394
        var components = new double[Math.Min(2, dimension)][];
        var variances = new double[components.Length];
        for (var k = 0; k < components.Length; k++)
        {
            (components[k], variances[k]) = PowerIteration(centered, components.Take(k).ToArray(), random);
        }

        return new PrincipalComponents(mean, [.. components.Select(c => c.Select(v => (float)v).ToArray())], variances);
    }

    /// <summary>Projects one embedding onto the components (x, y); y is 0 for one-dimensional data.</summary>
    public (double X, double Y) Project(ReadOnlySpan<float> embedding)
    {
        var centered = new float[_mean.Length];
        TensorPrimitives.Subtract(embedding, _mean, centered);
        var x = TensorPrimitives.Dot(centered, _components[0]);
        var y = _components.Length > 1 ? TensorPrimitives.Dot(centered, _components[1]) : 0f;
        return (x, y);
    }

    private static (double[] Vector, double Variance) PowerIteration(double[][] centered, double[][] found, Random random)
    {
        var dimension = centered[0].Length;
        var vector = new double[dimension];
        for (var i = 0; i < dimension; i++)
        {
            vector[i] = (float)(random.NextDouble() - 0.5);
        }

        Orthonormalize(vector, found);
        var next = new double[dimension];
        double variance = 0;
        for (var iteration = 0; iteration < MaxIterations; iteration++)
        {
            Array.Clear(next);
            foreach (var row in centered)
            {
                // next += row * (row · v): the covariance times v without forming the d×d matrix.
                TensorPrimitives.MultiplyAdd(row, TensorPrimitives.Dot(row, vector), next, next);
            }

            RemoveComponents(next, found);
            var norm = TensorPrimitives.Norm(next);
            if (norm == 0)
            {
                // No variance left in the remaining directions: keep the (orthonormal) start vector.
                return (vector, 0);
            }

            // v is a unit vector, so ||Σ v|| (with Σ = XᵀX / (n-1)) converges to the eigenvalue.
            variance = norm / Math.Max(1, centered.Length - 1);
            TensorPrimitives.Divide(next, norm, next);
            var change = 1 - Math.Abs(TensorPrimitives.CosineSimilarity(next, vector));
            (vector, next) = (next, vector);
            if (change < Tolerance)
            {
                break;
            }
        }

        return (vector, variance);
    }

    private static void RemoveComponents(double[] vector, double[][] found)
    {
        foreach (var component in found)
        {
            TensorPrimitives.MultiplyAdd(component, -TensorPrimitives.Dot(vector, component), vector, vector);
        }
    }

    private static void Orthonormalize(double[] vector, double[][] found)
    {
        RemoveComponents(vector, found);
        var norm = TensorPrimitives.Norm(vector);
        if (norm > 0)
        {
            TensorPrimitives.Divide(vector, norm, vector);
        }
    }
}
