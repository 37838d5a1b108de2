using MathNet.Numerics.LinearAlgebra;

namespace Chroma.Benchmarks.Ood;

/// <summary>
/// The original Chroma's out-of-distribution score, kept as an anchor: per-class mean and covariance,
/// the plain inverse of each covariance (the pseudo-inverse when it is singular), no shrinkage, and
/// classes with fewer samples than dimensions skipped. A record's score is its smallest Mahalanobis
/// distance over the kept classes.
/// </summary>
internal sealed class RawInverseMahalanobis
{
    private readonly List<(Vector<double> Mean, Matrix<double> Precision)> _classes = [];

    public RawInverseMahalanobis(float[][] embeddings, IReadOnlyList<string> labels)
    {
        var d = embeddings[0].Length;
        foreach (var group in Enumerable.Range(0, labels.Count).GroupBy(i => labels[i], StringComparer.Ordinal))
        {
            var rows = group.ToArray();
            if (rows.Length < d)
            {
                SkippedClasses++;
                continue;
            }

            var x = Matrix<double>.Build.Dense(rows.Length, d, (r, c) => embeddings[rows[r]][c]);
            var mean = x.ColumnSums() / rows.Length;
            var centred = x - Matrix<double>.Build.Dense(rows.Length, d, (_, c) => mean[c]);
            var covariance = centred.TransposeThisAndMultiply(centred) / (rows.Length - 1);

            // ReLU embeddings often have dead units, so the covariance is singular; the original
            // fell back to the pseudo-inverse then.
            var fullRank = covariance.Rank() == d;
            var precision = fullRank ? covariance.Inverse() : covariance.PseudoInverse();
            PseudoInverses += fullRank ? 0 : 1;

            _classes.Add((mean, precision));
        }
    }

    /// <summary>Gets how many classes had fewer samples than dimensions.</summary>
    public int SkippedClasses { get; }

    /// <summary>Gets how many kept classes needed the pseudo-inverse.</summary>
    public int PseudoInverses { get; }

    /// <summary>The smallest Mahalanobis distance of <paramref name="embedding"/> to a kept class (larger = more unusual).</summary>
    public double Score(float[] embedding)
    {
        var v = Vector<double>.Build.Dense(embedding.Length, i => embedding[i]);
        var best = double.PositiveInfinity;
        foreach (var (mean, precision) in _classes)
        {
            var diff = v - mean;
            best = Math.Min(best, Math.Sqrt(Math.Max(0, diff * (precision * diff))));
        }

        return best;
    }
}
