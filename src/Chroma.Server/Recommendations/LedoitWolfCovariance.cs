using System.Numerics.Tensors;

namespace Chroma.Server.Recommendations;

/// <summary>
/// Pooled within-class covariance shrunk toward a scaled identity with the Ledoit-Wolf (2004)
/// optimal shrinkage, so it is well conditioned and invertible even when a class (or the whole
/// training set) has fewer samples than dimensions.
/// </summary>
/// <remarks>
/// With rows <c>x_i</c> centred on their own class mean (n rows, d columns):
/// <code>
/// S     = X^T X / n                                    (pooled within-class covariance)
/// mu    = tr(S) / d                                    (target: mu I)
/// delta = ||S - mu I||_F^2 / d
/// beta  = min(delta, (sum_i ||x_i||^4 / n - ||S||_F^2) / (d n))
/// s     = beta / delta                                 (shrinkage in [0, 1]; 0 when delta = 0)
/// Sigma = (1 - s) S + s mu I
/// </code>
/// These are the estimators of Ledoit and Wolf, "A well-conditioned estimator for
/// large-dimensional covariance matrices" (2004), as implemented by scikit-learn's
/// <c>ledoit_wolf_shrinkage</c>. When every value is identical (mu = 0) a unit identity is used.
/// </remarks>
internal static class LedoitWolfCovariance
{
    /// <summary>Rows per accumulation block (4096 rows of 784 doubles is 25 MB).</summary>
    private const int BlockRows = 4096;

    /// <summary>Computes the shrunk covariance (row-major d x d) of class-centred rows.</summary>
    /// <param name="centered">Row-major n x d rows, each minus its class mean.</param>
    /// <param name="dimension">d.</param>
    /// <param name="shrinkage">The shrinkage s that was applied.</param>
    public static double[] Estimate(ReadOnlySpan<float> centered, int dimension, out double shrinkage)
    {
        var n = centered.Length / dimension;
        ArgumentOutOfRangeException.ThrowIfLessThan(n, 1, nameof(centered));

        // Accumulate X^T X over blocks of rows, each copied column-major so every covariance entry is
        // one contiguous SIMD dot product; blocks bound the copy's memory for large training sets.
        var blockRows = Math.Min(n, BlockRows);
        var columns = new double[dimension * blockRows];
        var covariance = new double[dimension * dimension];
        double sumFourth = 0;
        for (var start = 0; start < n; start += blockRows)
        {
            var rows = Math.Min(blockRows, n - start);
            for (var i = 0; i < rows; i++)
            {
                double squaredNorm = 0;
                for (var j = 0; j < dimension; j++)
                {
                    double v = centered[((start + i) * dimension) + j];
                    columns[(j * blockRows) + i] = v;
                    squaredNorm += v * v;
                }

                sumFourth += squaredNorm * squaredNorm;
            }

            Parallel.For(0, dimension, a =>
            {
                var columnA = columns.AsSpan(a * blockRows, rows);
                for (var b = 0; b <= a; b++)
                {
                    covariance[(a * dimension) + b] += TensorPrimitives.Dot<double>(columnA, columns.AsSpan(b * blockRows, rows));
                }
            });
        }

        for (var a = 0; a < dimension; a++)
        {
            for (var b = 0; b <= a; b++)
            {
                var value = covariance[(a * dimension) + b] / n;
                covariance[(a * dimension) + b] = value;
                covariance[(b * dimension) + a] = value;
            }
        }

        double trace = 0;
        for (var j = 0; j < dimension; j++)
        {
            trace += covariance[(j * dimension) + j];
        }

        var mu = trace / dimension;
        if (mu <= 0)
        {
            shrinkage = 1;
            return Identity(dimension, 1);
        }

        var frobeniusSquared = TensorPrimitives.Dot<double>(covariance, covariance);
        var delta = (frobeniusSquared - (2 * mu * trace) + (dimension * mu * mu)) / dimension;
        var beta = Math.Min(delta, ((sumFourth / n) - frobeniusSquared) / ((double)dimension * n));
        shrinkage = delta <= 0 ? 0 : Math.Clamp(beta / delta, 0, 1);

        TensorPrimitives.Multiply(covariance, 1 - shrinkage, covariance);
        for (var j = 0; j < dimension; j++)
        {
            covariance[(j * dimension) + j] += shrinkage * mu;
        }

        return covariance;
    }

    private static double[] Identity(int dimension, double scale)
    {
        var identity = new double[dimension * dimension];
        for (var j = 0; j < dimension; j++)
        {
            identity[(j * dimension) + j] = scale;
        }

        return identity;
    }
}
