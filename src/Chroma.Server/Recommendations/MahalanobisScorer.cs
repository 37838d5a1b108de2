using System.Numerics.Tensors;
using Chroma.Server.Background;
using MathNet.Numerics.LinearAlgebra;
using MathNet.Numerics.LinearAlgebra.Factorization;

namespace Chroma.Server.Recommendations;

/// <summary>
/// Mahalanobis distance to the nearest training class mean under one shared (pooled,
/// Ledoit-Wolf shrunk) covariance: <c>D(x) = min_c sqrt((x - m_c)^T Sigma^-1 (x - m_c))</c>.
/// </summary>
/// <remarks>
/// Fitting factors <c>Sigma = L L^T</c> (Cholesky, MathNet.Numerics) once and keeps the whitening
/// matrix <c>W = L^-1</c> and the whitened means <c>W m_c</c>; then
/// <c>(x - m)^T Sigma^-1 (x - m) = ||W x - W m||^2</c>, so scoring costs one triangular
/// matrix-vector product (d^2 / 2 multiply-adds) plus one Euclidean distance per class. Sharing the
/// covariance across classes is what lets a class with fewer samples than dimensions be scored at
/// all (the early Chroma skipped such classes).
/// <para>
/// Where the fitted rows are at most half the dimension (<see cref="UsesLowRank"/>), the d x d factorisation
/// (O(d^3), minutes at d = 2048) is replaced by <see cref="LowRankShrunkCovariance"/>: the same shrunk covariance
/// and the same distances in O(n^2 d) to fit and O(n d) to score. Sets with more rows than that keep the dense path.
/// The covariance is always positive definite: see <see cref="LedoitWolfCovariance.ShrinkageFloor"/>.
/// </para>
/// </remarks>
internal sealed class MahalanobisScorer
{
    private readonly float[] _whitening;
    private readonly float[] _whitenedMeans;
    private readonly LowRankShrunkCovariance? _lowRank;

    private MahalanobisScorer(int dimension, IReadOnlyList<string> classes, float[] whitening, float[] whitenedMeans, double shrinkage)
    {
        Dimension = dimension;
        Classes = classes;
        _whitening = whitening;
        _whitenedMeans = whitenedMeans;
        Shrinkage = shrinkage;
    }

    private MahalanobisScorer(int dimension, IReadOnlyList<string> classes, LowRankShrunkCovariance lowRank)
        : this(dimension, classes, [], [], lowRank.Shrinkage)
    {
        _lowRank = lowRank;
    }

    /// <summary>Which way the covariance is fitted and inverted.</summary>
    internal enum Form
    {
        /// <summary>Low rank where the fitted rows are at most half the dimension, else dense.</summary>
        Automatic,

        /// <summary>d x d Cholesky factor and whitening matrix.</summary>
        Dense,

        /// <summary><see cref="LowRankShrunkCovariance"/> where the fitted rows are at most d (else dense).</summary>
        LowRank,
    }

    /// <summary>Embedding dimension.</summary>
    public int Dimension { get; }

    /// <summary>Class labels, in the order of class indices returned by <see cref="Score"/>.</summary>
    public IReadOnlyList<string> Classes { get; }

    /// <summary>The Ledoit-Wolf shrinkage the covariance was fitted with (0 = sample covariance, 1 = scaled identity).</summary>
    public double Shrinkage { get; }

    /// <summary>Gets whether the covariance is held in low-rank form (<see cref="LowRankShrunkCovariance"/>) rather than as a d x d whitening matrix.</summary>
    public bool UsesLowRank => _lowRank is not null;

    /// <summary>Fits class means and the shrunk pooled covariance on <paramref name="training"/>.</summary>
    public static MahalanobisScorer Fit(TrainingData training, BackgroundWorkLimiter? limiter = null)
    {
        ArgumentNullException.ThrowIfNull(training);
        return Fit(training, [.. Enumerable.Range(0, training.Count)], limiter);
    }

    /// <summary>
    /// Fits class means and the shrunk pooled covariance on the rows <paramref name="rows"/> of
    /// <paramref name="training"/>: one pass for the means, one streaming pass for the covariance
    /// (no copy of the rows is made).
    /// </summary>
    public static MahalanobisScorer Fit(TrainingData training, int[] rows, BackgroundWorkLimiter? limiter = null) =>
        Fit(training, rows, labelled: true, Form.Automatic, limiter);

    /// <summary>
    /// As <see cref="Fit(TrainingData, int[], BackgroundWorkLimiter?)"/>, with the shrinkage chosen by the likelihood of
    /// the held-out rows <paramref name="heldOut"/> (<see cref="HeldOutShrinkage"/>) where there are enough of them and the
    /// covariance is dense; held-out rows of a class without fitted rows are left out of the choice.
    /// </summary>
    public static MahalanobisScorer Fit(TrainingData training, int[] rows, int[] heldOut, BackgroundWorkLimiter? limiter = null) =>
        Fit(training, rows, labelled: true, Form.Automatic, limiter, heldOut);

    /// <summary>As <see cref="FitBackground(TrainingData, int[], BackgroundWorkLimiter?)"/>, the shrinkage chosen by <paramref name="heldOut"/> as in <see cref="Fit(TrainingData, int[], int[], BackgroundWorkLimiter?)"/>.</summary>
    public static MahalanobisScorer FitBackground(TrainingData training, int[] rows, int[] heldOut, BackgroundWorkLimiter? limiter = null) =>
        Fit(training, rows, labelled: false, Form.Automatic, limiter, heldOut);

    /// <summary>
    /// Fits one Gaussian to the rows <paramref name="rows"/> of <paramref name="training"/>, labels ignored: the
    /// "background" of the relative Mahalanobis distance (Ren et al. 2021). Its one class is named "*".
    /// </summary>
    public static MahalanobisScorer FitBackground(TrainingData training, int[] rows, BackgroundWorkLimiter? limiter = null) =>
        Fit(training, rows, labelled: false, Form.Automatic, limiter);

    /// <summary>
    /// Fits as <see cref="Fit(TrainingData, int[], BackgroundWorkLimiter?)"/> (or <see cref="FitBackground(TrainingData, int[], BackgroundWorkLimiter?)"/> when
    /// <paramref name="labelled"/> is false) in the given <paramref name="form"/>; tests compare the two forms.
    /// </summary>
    internal static MahalanobisScorer Fit(TrainingData training, int[] rows, bool labelled, Form form, BackgroundWorkLimiter? limiter = null, int[]? heldOut = null)
    {
        ArgumentNullException.ThrowIfNull(training);
        ArgumentNullException.ThrowIfNull(rows);
        ArgumentOutOfRangeException.ThrowIfLessThan(rows.Length, 1, nameof(rows));
        var d = training.Dimension;
        string Label(int row) => labelled ? training.Labels[row] : "*";
        var classes = rows.Select(Label).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToArray();
        var classIndex = classes.Select((label, index) => (label, index)).ToDictionary(p => p.label, p => p.index, StringComparer.Ordinal);
        var rowClass = new int[rows.Length];

        var means = new double[classes.Length * d];
        var counts = new int[classes.Length];
        for (var i = 0; i < rows.Length; i++)
        {
            var c = rowClass[i] = classIndex[Label(rows[i])];
            counts[c]++;
            var row = training.Row(rows[i]);
            var sum = means.AsSpan(c * d, d);
            for (var j = 0; j < d; j++)
            {
                sum[j] += row[j];
            }
        }

        for (var c = 0; c < classes.Length; c++)
        {
            TensorPrimitives.Divide(means.AsSpan(c * d, d), counts[c], means.AsSpan(c * d, d));
        }

        var minimumShrinkage = LedoitWolfCovariance.ShrinkageFloor(rows.Length, classes.Length, d);
        if ((form == Form.LowRank && rows.Length <= d) || (form == Form.Automatic && rows.Length * 2 <= d))
        {
            return new MahalanobisScorer(d, classes, FitLowRank(training, rows, rowClass, means, minimumShrinkage));
        }

        var accumulator = new LedoitWolfCovariance(d, limiter);
        var centered = new float[d];
        for (var i = 0; i < rows.Length; i++)
        {
            var row = training.Row(rows[i]);
            var classMean = means.AsSpan(rowClass[i] * d, d);
            for (var j = 0; j < d; j++)
            {
                centered[j] = (float)(row[j] - classMean[j]);
            }

            accumulator.Add(centered);
        }

        var chooser = HeldOutChooser(training, heldOut, classIndex, means, labelled, minimumShrinkage);
        var covariance = accumulator.Estimate(minimumShrinkage, chooser, out var shrinkage);
        Cholesky<double> cholesky;
        try
        {
            cholesky = Matrix<double>.Build.DenseOfRowMajor(d, d, covariance).Cholesky();
        }
        catch (ArgumentException)
        {
            // Enough rows, yet the sample covariance is singular and Ledoit-Wolf chose no shrinkage (every class's
            // centred rows +/- one vector): the floor that rank-deficient sets always get makes it positive definite.
            covariance = accumulator.Estimate(LedoitWolfCovariance.SingularShrinkageFloor, out shrinkage);
            cholesky = Matrix<double>.Build.DenseOfRowMajor(d, d, covariance).Cholesky();
        }

        var whitening = LowerTriangularInverse(cholesky.Factor);

        var whitenedMeans = new float[classes.Length * d];
        var mean = new float[d];
        for (var c = 0; c < classes.Length; c++)
        {
            for (var j = 0; j < d; j++)
            {
                mean[j] = (float)means[(c * d) + j];
            }

            Whiten(whitening, d, mean, whitenedMeans.AsSpan(c * d, d));
        }

        return new MahalanobisScorer(d, classes, whitening, whitenedMeans, shrinkage);
    }

    /// <summary>Distance to the nearest class mean, and that class's index in <see cref="Classes"/>.</summary>
    public (double Distance, int NearestClass) Score(ReadOnlySpan<float> embedding)
    {
        if (embedding.Length != Dimension)
        {
            throw new ArgumentException($"embedding has {embedding.Length} floats, expected {Dimension}.", nameof(embedding));
        }

        if (_lowRank is not null)
        {
            var (squared, nearest) = _lowRank.Nearest(embedding);
            return (Math.Sqrt(squared), nearest);
        }

        Span<float> whitened = Dimension <= 1024 ? stackalloc float[Dimension] : new float[Dimension];
        Whiten(_whitening, Dimension, embedding, whitened);
        var best = double.PositiveInfinity;
        var bestClass = 0;
        for (var c = 0; c < Classes.Count; c++)
        {
            double distance = TensorPrimitives.Distance(whitened, _whitenedMeans.AsSpan(c * Dimension, Dimension));
            if (distance < best)
            {
                best = distance;
                bestClass = c;
            }
        }

        return (best, bestClass);
    }

    // The held-out rows (of classes with fitted rows) centred on their class means, as the shrinkage's chooser; null
    // where there are too few of them or the dimension is too wide (Ledoit-Wolf's shrinkage then stays).
    private static Func<double[], double, double, double>? HeldOutChooser(
        TrainingData training, int[]? heldOut, Dictionary<string, int> classIndex, double[] means, bool labelled, double floor)
    {
        var d = training.Dimension;
        var usable = heldOut?.Where(row => !labelled || classIndex.ContainsKey(training.Labels[row])).ToArray() ?? [];
        if (!HeldOutShrinkage.Chooses(usable.Length, d))
        {
            return null;
        }

        var centered = new double[usable.Length * d];
        for (var i = 0; i < usable.Length; i++)
        {
            var row = training.Row(usable[i]);
            var classMean = means.AsSpan((labelled ? classIndex[training.Labels[usable[i]]] : 0) * d, d);
            for (var j = 0; j < d; j++)
            {
                centered[(i * d) + j] = (float)(row[j] - classMean[j]);
            }
        }

        return (sample, mu, ledoitWolf) => HeldOutShrinkage.Choose(sample, d, mu, ledoitWolf, floor, centered);
    }

    private static LowRankShrunkCovariance FitLowRank(TrainingData training, int[] rows, int[] rowClass, double[] means, double minimumShrinkage)
    {
        // The centred values are rounded to float as the dense path's accumulator sees them.
        var d = training.Dimension;
        var centered = new double[rows.Length * d];
        for (var i = 0; i < rows.Length; i++)
        {
            var row = training.Row(rows[i]);
            var classMean = means.AsSpan(rowClass[i] * d, d);
            var target = centered.AsSpan(i * d, d);
            for (var j = 0; j < d; j++)
            {
                target[j] = (float)(row[j] - classMean[j]);
            }
        }

        // The dense path whitens float means; the same rounding here keeps the two forms' distances together.
        var roundedMeans = new double[means.Length];
        for (var i = 0; i < means.Length; i++)
        {
            roundedMeans[i] = (float)means[i];
        }

        return LowRankShrunkCovariance.Fit(centered, d, roundedMeans, minimumShrinkage);
    }

    private static void Whiten(float[] lowerTriangular, int d, ReadOnlySpan<float> x, Span<float> destination)
    {
        // Row i of L^-1 is zero past column i, so each output needs only the first i + 1 inputs.
        for (var i = 0; i < d; i++)
        {
            destination[i] = TensorPrimitives.Dot(lowerTriangular.AsSpan(i * d, i + 1), x[..(i + 1)]);
        }
    }

    private static float[] LowerTriangularInverse(Matrix<double> lower)
    {
        // Forward substitution, column by column: L X = I with X lower triangular.
        var d = lower.RowCount;
        var l = lower.ToRowMajorArray();
        var inverse = new double[d * d];
        // d^3 / 6 multiply-adds (0.35 M at d = 128): not worth a thread.
        for (var column = 0; column < d; column++)
        {
            inverse[(column * d) + column] = 1 / l[(column * d) + column];
            for (var row = column + 1; row < d; row++)
            {
                double sum = 0;
                for (var k = column; k < row; k++)
                {
                    sum += l[(row * d) + k] * inverse[(k * d) + column];
                }

                inverse[(row * d) + column] = -sum / l[(row * d) + row];
            }
        }

        var result = new float[d * d];
        for (var i = 0; i < result.Length; i++)
        {
            result[i] = (float)inverse[i];
        }

        return result;
    }
}
