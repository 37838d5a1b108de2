using System.Numerics.Tensors;
using Chroma.Server.Background;

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
/// <c>ledoit_wolf_shrinkage</c>. When every value is identical (mu = 0) a unit identity is used. Where S is
/// singular for want of rows, s is at least <see cref="SingularShrinkageFloor"/> (see <see cref="ShrinkageFloor"/>), so
/// Sigma is positive definite whatever the rows are (the plain estimate gives s = 0 when every centred row is +/- one vector).
/// <para>
/// Cost: one pass over the rows accumulating <c>X^T X</c> (d(d+1)/2 dot products per block of
/// <see cref="BlockRows"/> rows, blocks split over the limiter's threads) and the sum of <c>||x_i||^4</c>:
/// O(n d^2 / 2) multiply-adds and O(d^2 + BlockRows d) memory, whatever n is. 1,000,000 rows of
/// 128 floats are about 8 G multiply-adds (tests/Chroma.Benchmarks/README.md has the measured time).
/// </para>
/// </remarks>
internal sealed class LedoitWolfCovariance
{
    /// <summary>Rows per accumulation block: 512 rows of 128 doubles (512 KiB) stay in a core's cache while they are multiplied.</summary>
    public const int BlockRows = 512;

    /// <summary>
    /// Least shrinkage used where the sample covariance is singular: the Ledoit-Wolf s is 0 when every centred row is
    /// +/- the same vector (two rows of one class, as a 3-record set leaves for the fit), and (1 - 0) S has no inverse.
    /// 0.01 bounds the condition number by about 100 d.
    /// </summary>
    public const double SingularShrinkageFloor = 0.01;

    // Columns of X^T X handed to one thread at a time within a block (row a costs a + 1 dot products).
    private const int ColumnsPerChunk = 8;

    private readonly int _dimension;
    private readonly BackgroundWorkLimiter _limiter;
    private readonly double[] _columns;
    private readonly double[] _crossProducts;
    private int _buffered;
    private long _count;
    private double _sumFourth;

    /// <summary>Starts an empty accumulation of <paramref name="dimension"/>-float rows.</summary>
    /// <param name="dimension">d, at least 1.</param>
    /// <param name="limiter">Threads for the block products; the shared limiter when null.</param>
    public LedoitWolfCovariance(int dimension, BackgroundWorkLimiter? limiter = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(dimension, 1);
        _dimension = dimension;
        _limiter = limiter ?? BackgroundWorkLimiter.Shared;
        _columns = new double[dimension * BlockRows];
        _crossProducts = new double[dimension * dimension];
    }

    /// <summary>Gets how many rows were added.</summary>
    public long Count => _count;

    /// <summary>Computes the shrunk covariance (row-major d x d) of class-centred rows.</summary>
    /// <param name="centered">Row-major n x d rows, each minus its class mean.</param>
    /// <param name="dimension">d.</param>
    /// <param name="shrinkage">The shrinkage s that was applied.</param>
    public static double[] Estimate(ReadOnlySpan<float> centered, int dimension, out double shrinkage)
    {
        var n = centered.Length / dimension;
        ArgumentOutOfRangeException.ThrowIfLessThan(n, 1, nameof(centered));
        var accumulator = new LedoitWolfCovariance(dimension);
        for (var i = 0; i < n; i++)
        {
            accumulator.Add(centered.Slice(i * dimension, dimension));
        }

        return accumulator.Estimate(out shrinkage);
    }

    /// <summary>Adds one row, already minus its class mean.</summary>
    public void Add(ReadOnlySpan<float> centeredRow)
    {
        if (centeredRow.Length != _dimension)
        {
            throw new ArgumentException($"row has {centeredRow.Length} floats, expected {_dimension}.", nameof(centeredRow));
        }

        // Column-major within the block, so every entry of X^T X is one contiguous SIMD dot product.
        double squaredNorm = 0;
        for (var j = 0; j < _dimension; j++)
        {
            double v = centeredRow[j];
            _columns[(j * BlockRows) + _buffered] = v;
            squaredNorm += v * v;
        }

        _sumFourth += squaredNorm * squaredNorm;
        _count++;
        if (++_buffered == BlockRows)
        {
            Flush();
        }
    }

    /// <summary>The shrunk covariance (row-major d x d) of the rows added so far (at least one), with no shrinkage floor.</summary>
    /// <param name="shrinkage">The shrinkage s that was applied.</param>
    public double[] Estimate(out double shrinkage) => Estimate(0, out shrinkage);

    /// <summary>The shrunk covariance (row-major d x d) of the rows added so far (at least one).</summary>
    /// <param name="minimumShrinkage">
    /// Floor on s (see <see cref="ShrinkageFloor"/>): with it the result is positive definite even where the sample
    /// covariance is singular and the Ledoit-Wolf estimate of s is 0.
    /// </param>
    /// <param name="shrinkage">The shrinkage s that was applied.</param>
    public double[] Estimate(double minimumShrinkage, out double shrinkage) => Estimate(minimumShrinkage, null, out shrinkage);

    /// <summary>
    /// The covariance (row-major d x d) of the rows added so far (at least one), shrunk by what <paramref name="choose"/>
    /// makes of the sample covariance S, tr(S) / d and the Ledoit-Wolf shrinkage (with its floor); by the Ledoit-Wolf
    /// shrinkage itself when <paramref name="choose"/> is null. <paramref name="choose"/> must not change S.
    /// </summary>
    /// <param name="minimumShrinkage">Floor on the Ledoit-Wolf shrinkage (see <see cref="ShrinkageFloor"/>).</param>
    /// <param name="choose">(S, mu, Ledoit-Wolf s) to the shrinkage applied, e.g. <see cref="HeldOutShrinkage.Choose"/>.</param>
    /// <param name="shrinkage">The shrinkage s that was applied.</param>
    public double[] Estimate(double minimumShrinkage, Func<double[], double, double, double>? choose, out double shrinkage)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(_count, 1, nameof(Count));
        Flush();
        var dimension = _dimension;
        var n = (double)_count;
        var covariance = new double[dimension * dimension];
        for (var a = 0; a < dimension; a++)
        {
            for (var b = 0; b <= a; b++)
            {
                var value = _crossProducts[(a * dimension) + b] / n;
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
        shrinkage = Shrinkage(n, dimension, trace, frobeniusSquared, _sumFourth, minimumShrinkage);
        if (choose is not null)
        {
            shrinkage = choose(covariance, mu, shrinkage);
        }

        TensorPrimitives.Multiply(covariance, 1 - shrinkage, covariance);
        for (var j = 0; j < dimension; j++)
        {
            covariance[(j * dimension) + j] += shrinkage * mu;
        }

        return covariance;
    }

    /// <summary>
    /// The floor on the shrinkage for <paramref name="rows"/> rows centred on <paramref name="means"/> class means in
    /// <paramref name="dimension"/> dimensions: <see cref="SingularShrinkageFloor"/> when the sample covariance is
    /// singular for want of rows (rank at most rows - means, below d), else 0, so sets with enough rows keep the plain
    /// Ledoit-Wolf estimate.
    /// </summary>
    public static double ShrinkageFloor(long rows, int means, int dimension) =>
        rows - means < dimension ? SingularShrinkageFloor : 0;

    /// <summary>
    /// The Ledoit-Wolf shrinkage from the sufficient statistics of the sample covariance S of n centred rows.
    /// </summary>
    /// <param name="n">Rows.</param>
    /// <param name="dimension">d.</param>
    /// <param name="trace">tr(S), positive.</param>
    /// <param name="frobeniusSquared">||S||_F^2.</param>
    /// <param name="sumFourth">sum_i ||x_i||^4.</param>
    /// <param name="minimumShrinkage">Floor on the result.</param>
    internal static double Shrinkage(double n, int dimension, double trace, double frobeniusSquared, double sumFourth, double minimumShrinkage)
    {
        var mu = trace / dimension;
        var delta = (frobeniusSquared - (2 * mu * trace) + (dimension * mu * mu)) / dimension;
        var beta = Math.Min(delta, ((sumFourth / n) - frobeniusSquared) / (dimension * n));
        var shrinkage = delta <= 0 ? 0 : Math.Clamp(beta / delta, 0, 1);
        return Math.Max(shrinkage, minimumShrinkage);
    }

    private void Flush()
    {
        var rows = _buffered;
        if (rows == 0)
        {
            return;
        }

        var d = _dimension;
        var columns = _columns;
        var crossProducts = _crossProducts;
        _limiter.For(0, d, ColumnsPerChunk, (first, end) =>
        {
            for (var a = first; a < end; a++)
            {
                var columnA = columns.AsSpan(a * BlockRows, rows);
                for (var b = 0; b <= a; b++)
                {
                    crossProducts[(a * d) + b] += TensorPrimitives.Dot<double>(columnA, columns.AsSpan(b * BlockRows, rows));
                }
            }
        });
        _buffered = 0;
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
