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

        var isX = new bool[total];
        for (var i = 0; i < xRows.Length; i++)
        {
            isX[i] = true;
        }

        var observed = Mmd2(kernel, total, isX, xRows.Length);
        var atLeast = 0;
        for (var p = 0; p < options.Permutations; p++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            random.Shuffle(isX);
            if (Mmd2(kernel, total, isX, xRows.Length) >= observed)
            {
                atLeast++;
            }
        }
#pragma warning restore CA5394

        return new DriftResult(observed, (1.0 + atLeast) / (1.0 + options.Permutations), bandwidth, xRows.Length, yRows.Length);
    }

    private static double Mmd2(double[] kernel, int total, bool[] isX, int m)
    {
        double xx = 0, yy = 0, xy = 0;
        for (var i = 0; i < total; i++)
        {
            var row = kernel.AsSpan(i * total, total);
            for (var j = i + 1; j < total; j++)
            {
                if (isX[i] == isX[j])
                {
                    if (isX[i])
                    {
                        xx += row[j];
                    }
                    else
                    {
                        yy += row[j];
                    }
                }
                else
                {
                    xy += row[j];
                }
            }
        }

        double n = total - m;
        return (2 * xx / (m * (m - 1.0))) + (2 * yy / (n * (n - 1))) - (2 * xy / (m * n));
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
