using System.Numerics.Tensors;
using Chroma.Server.Background;

namespace Chroma.Server.Recommendations;

/// <summary>
/// Embedding drift between training (X) and recent production (Y): the kernel two-sample test of
/// Gretton et al. (2012) with an RBF kernel, median-heuristic bandwidth and a permutation p-value.
/// </summary>
/// <remarks>
/// On random samples of m records from X and n from Y:
/// <code>
/// k(a, b) = exp(-||a - b||^2 / h),   h = median of ||a - b||^2 over all pairs of the pooled sample
/// MMD^2_u = sum_{i!=j} k(x_i,x_j) / (m(m-1)) + sum_{i!=j} k(y_i,y_j) / (n(n-1)) - 2 sum_{i,j} k(x_i,y_j) / (mn)
/// p       = (1 + #{permutations with MMD^2_u &gt;= observed}) / (1 + permutations)
/// </code>
/// Each permutation reshuffles which pooled records count as X and recomputes MMD^2_u from the one
/// kernel matrix, so the cost is O((m+n)^2 d) once plus O((m+n)^2) per permutation.
/// </remarks>
internal static class MmdDriftDetector
{
    // Rows of the pairwise distance matrix per chunk of work (early rows have more pairs; chunks even that out across threads).
    private const int RowsPerChunk = 32;

    /// <summary>Tests <paramref name="reference"/> against <paramref name="recent"/> (row-major, <paramref name="dimension"/> floats per row, at least 2 rows each).</summary>
    public static DriftResult Measure(
        ReadOnlyMemory<float> reference,
        ReadOnlyMemory<float> recent,
        int dimension,
        DriftOptions? options = null,
        BackgroundWorkLimiter? limiter = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(dimension, 1);
        options ??= new DriftOptions();
        if (reference.Length % dimension != 0 || reference.Length / dimension < 2)
        {
            throw new ArgumentException("reference needs at least 2 rows of the given dimension.", nameof(reference));
        }

        if (recent.Length % dimension != 0 || recent.Length / dimension < 2)
        {
            throw new ArgumentException("recent needs at least 2 rows of the given dimension.", nameof(recent));
        }

#pragma warning disable CA5394 // Seeded sampling for reproducible statistics, not security.
        var random = new Random(options.Seed);
        var xRows = Sample(reference.Length / dimension, options.SampleSize, random);
        var yRows = Sample(recent.Length / dimension, options.SampleSize, random);
        var pooled = xRows.Select(r => reference.Slice(r * dimension, dimension))
            .Concat(yRows.Select(r => recent.Slice(r * dimension, dimension)))
            .ToArray();
        var total = pooled.Length;
        var squared = new double[total * total];
        (limiter ?? BackgroundWorkLimiter.Shared).For(0, total, RowsPerChunk, (start, end) =>
        {
            for (var i = start; i < end; i++)
            {
                for (var j = i + 1; j < total; j++)
                {
                    double distance = TensorPrimitives.Distance(pooled[i].Span, pooled[j].Span);
                    squared[(i * total) + j] = distance * distance;
                    squared[(j * total) + i] = distance * distance;
                }
            }
        }, cancellationToken);

        var bandwidth = MedianOffDiagonal(squared, total);
        if (bandwidth <= 0)
        {
            bandwidth = 1;
        }

        var kernel = squared;
        TensorPrimitives.Divide(kernel, -bandwidth, kernel);
        TensorPrimitives.Exp(kernel, kernel);

        // Membership as a 0/1 vector: each statistic is then a few dense products (see Mmd2), no branch per pair.
        var inX = new double[total];
        for (var i = 0; i < xRows.Length; i++)
        {
            inX[i] = 1;
        }

        var kernelSum = TensorPrimitives.Sum<double>(kernel);
        var rowScratch = new double[total];
        var observed = Mmd2(kernel, total, inX, xRows.Length, kernelSum, rowScratch);
        var atLeast = 0;
        for (var p = 0; p < options.Permutations; p++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            random.Shuffle(inX);
            if (Mmd2(kernel, total, inX, xRows.Length, kernelSum, rowScratch) >= observed)
            {
                atLeast++;
            }
        }
#pragma warning restore CA5394

        return new DriftResult(observed, (1.0 + atLeast) / (1.0 + options.Permutations), bandwidth, xRows.Length, yRows.Length);
    }

    // The unbiased MMD^2 of the split that inX (1 = X, 0 = Y) describes. With r = K inX: a = inX.r sums K over X x X,
    // c = sum(r) - a over X x Y, b = sum(K) - a - 2c over Y x Y; the diagonal (K_ii = 1) leaves a and b, so the sums
    // over pairs i < j are (a - m) / 2, (b - n) / 2 and c. One matrix-vector product per permutation, vectorised.
    private static double Mmd2(double[] kernel, int total, double[] inX, int m, double kernelSum, double[] rowScratch)
    {
        for (var i = 0; i < total; i++)
        {
            rowScratch[i] = TensorPrimitives.Dot<double>(kernel.AsSpan(i * total, total), inX);
        }

        var a = TensorPrimitives.Dot<double>(inX, rowScratch);
        var c = TensorPrimitives.Sum<double>(rowScratch) - a;
        var b = kernelSum - a - (2 * c);
        double n = total - m;
        return ((a - m) / (m * (m - 1.0))) + ((b - n) / (n * (n - 1))) - (2 * c / (m * n));
    }

    private static double MedianOffDiagonal(double[] squared, int total)
    {
        var values = new double[total * (total - 1) / 2];
        var k = 0;
        for (var i = 0; i < total; i++)
        {
            for (var j = i + 1; j < total; j++)
            {
                values[k++] = squared[(i * total) + j];
            }
        }

        Array.Sort(values);
        return values[values.Length / 2];
    }

    private static int[] Sample(int rows, int size, Random random)
    {
        var order = Enumerable.Range(0, rows).ToArray();
#pragma warning disable CA5394 // Seeded sampling for reproducible statistics, not security.
        random.Shuffle(order);
#pragma warning restore CA5394
        return order[..Math.Min(size, rows)];
    }
}
