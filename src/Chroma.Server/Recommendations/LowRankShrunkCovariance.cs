using System.Numerics.Tensors;
using MathNet.Numerics.LinearAlgebra;
using MathNet.Numerics.LinearAlgebra.Factorization;

namespace Chroma.Server.Recommendations;

/// <summary>
/// The same Ledoit-Wolf shrunk covariance as <see cref="LedoitWolfCovariance"/>, and Mahalanobis distances under it,
/// for n centred rows far fewer than d dimensions, without ever forming a d x d matrix.
/// </summary>
/// <remarks>
/// The sample covariance <c>S = X^T X / n</c> has rank at most n. With the thin QR factorisation <c>X^T = Q R</c>
/// (Q is d x n with orthonormal columns) and the eigendecomposition <c>R R^T = V diag(lambda) V^T</c>, the columns of
/// <c>B = Q V</c> are orthonormal and <c>S = B diag(lambda / n) B^T</c>. So
/// <c>Sigma = (1 - s) S + s mu I</c> has variance <c>v_i = (1 - s) lambda_i / n + s mu</c> along column i of B and
/// <c>c = s mu</c> on the rest of the space, and for <c>y = x - m</c>, with <c>a = B^T y</c> and <c>y_perp = y - B a</c>:
/// <code>
/// y^T Sigma^-1 y = sum_i a_i^2 / v_i + ||y_perp||^2 / c
/// </code>
/// This is the Woodbury identity in the basis where it is diagonal. The statistics Ledoit-Wolf needs are the same in
/// the n x n space: <c>tr(S) = tr(R R^T) / n</c>, <c>||S||_F^2 = ||R R^T||_F^2 / n^2</c>.
/// <para>
/// Cost: O(n^2 d + n^3) to fit (the QR), O(n d) memory, and O(n d + k d) to score against k class means, where the
/// dense path costs O(n d^2 + d^3) to fit and d^2 / 2 to score. <c>y_perp</c> is formed explicitly, not as
/// <c>||y||^2 - ||a||^2</c>, so a point near the span of the rows loses no precision to cancellation.
/// </para>
/// </remarks>
internal sealed class LowRankShrunkCovariance
{
    private readonly int _dimension;
    private readonly int _rank;
    private readonly double[] _basis;
    private readonly double[] _inverseVariance;
    private readonly double _inverseIsotropic;
    private readonly double[] _projectedMeans;
    private readonly double[] _residualMeans;

    private LowRankShrunkCovariance(int dimension, int rank, double[] basis, double[] inverseVariance, double inverseIsotropic, double[] projectedMeans, double[] residualMeans, double shrinkage)
    {
        _dimension = dimension;
        _rank = rank;
        _basis = basis;
        _inverseVariance = inverseVariance;
        _inverseIsotropic = inverseIsotropic;
        _projectedMeans = projectedMeans;
        _residualMeans = residualMeans;
        Shrinkage = shrinkage;
    }

    /// <summary>The shrinkage s that was applied.</summary>
    public double Shrinkage { get; }

    /// <summary>Gets how many class means the distances are measured to.</summary>
    public int MeanCount => _residualMeans.Length / _dimension;

    /// <summary>Fits the shrunk covariance of <paramref name="centered"/> and keeps <paramref name="means"/> to score against.</summary>
    /// <param name="centered">Row-major n x d rows, each minus its class mean (n from 1 to d).</param>
    /// <param name="dimension">d.</param>
    /// <param name="means">Row-major k x d class means.</param>
    /// <param name="minimumShrinkage">Floor on the shrinkage (see <see cref="LedoitWolfCovariance.ShrinkageFloor"/>).</param>
    public static LowRankShrunkCovariance Fit(double[] centered, int dimension, double[] means, double minimumShrinkage)
    {
        ArgumentNullException.ThrowIfNull(centered);
        ArgumentNullException.ThrowIfNull(means);
        var n = centered.Length / dimension;
        ArgumentOutOfRangeException.ThrowIfLessThan(n, 1, nameof(centered));
        if (n > dimension)
        {
            throw new ArgumentException($"{n} rows of {dimension} floats: the low-rank form needs at most as many rows as dimensions.", nameof(centered));
        }

        double sumFourth = 0;
        double trace = 0;
        for (var i = 0; i < n; i++)
        {
            var row = centered.AsSpan(i * dimension, dimension);
            var squaredNorm = TensorPrimitives.Dot<double>(row, row);
            trace += squaredNorm;
            sumFourth += squaredNorm * squaredNorm;
        }

        trace /= n;
        if (trace <= 0)
        {
            // Every row equals its class mean: a unit identity, as the dense path uses.
            return new LowRankShrunkCovariance(dimension, 0, [], [], 1, [], [.. means], 1);
        }

        // MathNet matrices are column-major: the row-major n x d array read column-major is X^T (d x n).
        var transposed = Matrix<double>.Build.Dense(dimension, n, centered);
        var qr = transposed.QR(QRMethod.Thin);
        var r = qr.R;
        var gram = r * r.Transpose();
        var frobeniusSquared = gram.Enumerate().Sum(g => g * g) / ((double)n * n);
        var shrinkage = LedoitWolfCovariance.Shrinkage(n, dimension, trace, frobeniusSquared, sumFourth, minimumShrinkage);
        var isotropic = shrinkage * trace / dimension;

        var eigen = gram.Evd(Symmetricity.Symmetric);
        var basisColumns = qr.Q * eigen.EigenVectors;
        var inverseVariance = new double[n];
        for (var i = 0; i < n; i++)
        {
            var lambda = Math.Max(eigen.EigenValues[i].Real, 0);
            inverseVariance[i] = 1 / (((1 - shrinkage) * lambda / n) + isotropic);
        }

        // Column-major B: row i of _basis is column i of B, contiguous for the dot products.
        var basis = basisColumns.ToColumnMajorArray();
        var model = new LowRankShrunkCovariance(dimension, n, basis, inverseVariance, 1 / isotropic, new double[(means.Length / dimension) * n], new double[means.Length], shrinkage);
        for (var c = 0; c < model.MeanCount; c++)
        {
            model.Project(means.AsSpan(c * dimension, dimension), model._projectedMeans.AsSpan(c * n, n), model._residualMeans.AsSpan(c * dimension, dimension));
        }

        return model;
    }

    /// <summary>Squared Mahalanobis distance of <paramref name="x"/> to the nearest class mean, and that mean's index.</summary>
    public (double SquaredDistance, int NearestMean) Nearest(ReadOnlySpan<float> x)
    {
        var point = new double[_dimension];
        TensorPrimitives.ConvertChecked<float, double>(x, point);
        var projected = new double[_rank];
        var residual = new double[_dimension];
        Project(point, projected, residual);

        var best = double.PositiveInfinity;
        var bestMean = 0;
        for (var c = 0; c < MeanCount; c++)
        {
            double inSpan = 0;
            var mean = _projectedMeans.AsSpan(c * _rank, _rank);
            for (var i = 0; i < _rank; i++)
            {
                var a = projected[i] - mean[i];
                inSpan += a * a * _inverseVariance[i];
            }

            var outside = TensorPrimitives.Distance<double>(residual, _residualMeans.AsSpan(c * _dimension, _dimension));
            var squared = inSpan + (outside * outside * _inverseIsotropic);
            if (squared < best)
            {
                best = squared;
                bestMean = c;
            }
        }

        return (best, bestMean);
    }

    // a = B^T x and x - B a.
    private void Project(ReadOnlySpan<double> x, Span<double> projected, Span<double> residual)
    {
        x.CopyTo(residual);
        for (var i = 0; i < _rank; i++)
        {
            var column = _basis.AsSpan(i * _dimension, _dimension);
            var a = TensorPrimitives.Dot(column, x);
            projected[i] = a;
            for (var j = 0; j < _dimension; j++)
            {
                residual[j] -= a * column[j];
            }
        }
    }
}
