namespace Chroma.Server.Recommendations;

/// <summary>
/// Calibrates one raw signal (larger = more unusual) against the values the same signal takes on
/// held-out training records, which the model never fitted on.
/// </summary>
/// <remarks>
/// With the N held-out values <c>h_i</c>:
/// <code>
/// percentile(v) = #{h_i &lt; v} / N                      (share less unusual, 0..1)
/// p(v)          = (#{h_i &gt;= v} + 1) / (N + 1)           for v &lt;= max h
/// p(v)          = exp(-(v - max h) / theta) / (N + 1)   for v &gt; max h
/// </code>
/// The first two are the usual empirical (conformal) forms. Beyond the largest held-out value they
/// would tie every record at 1 / (N + 1), so an exponential tail (peaks over threshold) continues
/// them: <c>theta</c> is the mean excess of the top decile over the 90th percentile. That keeps the
/// ranking among records far outside the training distribution, which are the ones worth looking at.
/// When the top decile has no spread, theta falls back to the whole range; when every held-out
/// value is the same, or for bounded signals built without a tail (the boundary share), p stays at
/// 1 / (N + 1) beyond the maximum: there is nothing to extrapolate from, and an invented tail would
/// let one signal swamp the combined score. A signal with a known upper bound <c>b</c> (the
/// probability signals: entropy at most ln C, margin at most 1, least confidence at most 1 - 1/C)
/// gets <c>theta &gt;= (b - max h) / ln 1000</c>: p falls at most a thousandfold below 1 / (N + 1)
/// between the largest held-out value and the bound, however confident the model was on its
/// training data, so such a signal adds at most log10(N + 1) + 3 to a record's surprise.
/// </remarks>
internal sealed class EmpiricalCalibrator
{
    // How far below 1 / (N + 1) the tail of a bounded signal may fall at its bound.
    private const double MaxTailDrop = 1000;

    private readonly double[] _sorted;
    private readonly double _tailScale;

    /// <summary>Sorts a copy of <paramref name="heldOutValues"/> (at least one; NaN, from an overflowed distance, counts as +infinity).</summary>
    /// <param name="heldOutValues">The signal on held-out training records.</param>
    /// <param name="extrapolateTail">Whether p keeps falling beyond the largest held-out value (see the remarks).</param>
    /// <param name="upperBound">The largest value the signal can take, or null when unbounded (see the remarks).</param>
    public EmpiricalCalibrator(IEnumerable<double> heldOutValues, bool extrapolateTail = true, double? upperBound = null)
    {
        ArgumentNullException.ThrowIfNull(heldOutValues);
        // Finite embeddings with huge values can overflow a distance to infinity (or to NaN, as infinity minus
        // infinity): such a record is as far out as a value can be, so NaN counts as +infinity, never as an error.
        _sorted = heldOutValues.Select(Unmeasurable).ToArray();
        if (_sorted.Length == 0)
        {
            throw new ArgumentException("Calibration needs at least one held-out value.", nameof(heldOutValues));
        }

        Array.Sort(_sorted);
        var threshold = _sorted[(int)Math.Floor(0.9 * (_sorted.Length - 1))];
        var excess = _sorted.Where(v => v > threshold).Select(v => v - threshold).DefaultIfEmpty(0).Average();
        var range = _sorted[^1] - _sorted[0];
        _tailScale = !extrapolateTail ? double.PositiveInfinity : excess > 0 ? excess : range > 0 ? range : double.PositiveInfinity;
        if (extrapolateTail && upperBound is { } bound && bound > _sorted[^1])
        {
            var boundedScale = (bound - _sorted[^1]) / Math.Log(MaxTailDrop);
            _tailScale = double.IsPositiveInfinity(_tailScale) ? boundedScale : Math.Max(_tailScale, boundedScale);
        }
    }

    /// <summary>Number of held-out values.</summary>
    public int Count => _sorted.Length;

    /// <summary>Share of held-out values strictly below <paramref name="value"/> (NaN counts as +infinity).</summary>
    public double Percentile(double value) => LowerBound(Unmeasurable(value)) / (double)_sorted.Length;

    /// <summary>The held-out value at share <paramref name="q"/> (0 to 1) of the sorted values (nearest rank).</summary>
    public double Quantile(double q) => _sorted[(int)Math.Clamp(Math.Round(q * (_sorted.Length - 1)), 0, _sorted.Length - 1)];

    /// <summary>Upper-tail p-value of <paramref name="value"/> (see the remarks), in (0, 1].</summary>
    public double PValue(double value)
    {
        value = Unmeasurable(value);
        var n = _sorted.Length;
        if (value > _sorted[^1])
        {
            return Math.Max(double.Epsilon, Math.Exp(-(value - _sorted[^1]) / _tailScale) / (n + 1));
        }

        return (n - LowerBound(value) + 1) / (double)(n + 1);
    }

    /// <summary>Calibrates <paramref name="value"/> as a <see cref="SignalScore"/>.</summary>
    public SignalScore Calibrate(SignalKind kind, double value) => new(kind, value, Percentile(value), PValue(value));

    private static double Unmeasurable(double value) => double.IsNaN(value) ? double.PositiveInfinity : value;

    private int LowerBound(double value)
    {
        int low = 0, high = _sorted.Length;
        while (low < high)
        {
            var mid = (low + high) >>> 1;
            if (_sorted[mid] < value)
            {
                low = mid + 1;
            }
            else
            {
                high = mid;
            }
        }

        return low;
    }
}
