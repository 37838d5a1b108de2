using System.Numerics.Tensors;

namespace Chroma.Server.Recommendations;

/// <summary>
/// Orders unit vectors so that every prefix is a greedy k-medians solution (facility location, Nemhauser et al.
/// 1978): each pick is the row that most lowers the weighted sum, over a set of client rows, of each client's
/// distance to its nearest facility so far: the picks, and optionally facilities already in place (facility location
/// with existing facilities), such as the training data.
/// </summary>
/// <remarks>
/// <code>
/// gain(j) = sum_c w_c max(0, r_c - |x_c - x_j|)       r_c = distance of client c to its nearest facility
///                                                     (before any pick: to the existing ones, else 2)
/// </code>
/// The first pick is the medoid, the most typical row of all; later picks go to the densest regions the earlier
/// ones leave far away, each worth the mass it represents, so a batch spreads over the pool in proportion to where
/// the pool is (a cluster of twice the rows tends to get twice the picks) while every pick is a central, typical
/// member of its region rather than an edge case. Two is the largest distance between unit vectors, so a client no
/// pick has reached counts in full. The gain is submodular, so the greedy keeps stale gains as upper bounds and
/// recomputes only the best one until it stays best (lazy greedy, Minoux 1978); a pick depends only on the earlier
/// ones, so the order is prefix-stable.
/// </remarks>
internal static class GreedyMedians
{
    /// <summary>A client's distance before any pick: 2, the largest distance between unit vectors.</summary>
    public const double Unreached = 2;

    /// <summary>Returns up to <paramref name="count"/> picks in order, each with the rows it absorbed as near-duplicates.</summary>
    /// <param name="units">Row-major unit vectors, <paramref name="dimension"/> wide: the rows that can be picked.</param>
    /// <param name="dimension">Width of a row.</param>
    /// <param name="clients">Rows (indices into <paramref name="units"/>) whose distances the picks lower.</param>
    /// <param name="weights">Weight of each client, same order as <paramref name="clients"/>.</param>
    /// <param name="tieRank">Tie-break per row: the lower goes first when gains are equal.</param>
    /// <param name="count">Most picks.</param>
    /// <param name="duplicateDistance">Rows within this distance of a pick are absorbed into it and never picked.</param>
    /// <param name="initialReach">
    /// Each client's distance to the facilities already in place before the first pick (same order as
    /// <paramref name="clients"/>, capped at <see cref="Unreached"/>), or null for none: every client starts unreached.
    /// </param>
    /// <remarks>Stops early when no row lowers any distance further.</remarks>
    public static List<(int Row, List<int> Duplicates)> Order(
        float[] units, int dimension, int[] clients, double[] weights, int[] tieRank, int count, double duplicateDistance, double[]? initialReach = null)
    {
        var rows = units.Length / dimension;
        var picks = new List<(int, List<int>)>();
        if (rows == 0 || count <= 0 || clients.Length == 0)
        {
            return picks;
        }

        var clientUnits = new float[clients.Length * dimension];
        for (var c = 0; c < clients.Length; c++)
        {
            units.AsSpan(clients[c] * dimension, dimension).CopyTo(clientUnits.AsSpan(c * dimension, dimension));
        }

        // Single precision for the per-client arithmetic: every step of a gain is then one vector operation.
        var reach = new float[clients.Length];
        for (var c = 0; c < clients.Length; c++)
        {
            reach[c] = (float)Math.Clamp(initialReach?[c] ?? Unreached, 0, Unreached);
        }

        var clientWeights = Array.ConvertAll(weights, w => (float)w);
        var gains = new double[rows];
        Parallel.For(0, rows, new ParallelOptions { MaxDegreeOfParallelism = rows >= 256 ? -1 : 1 }, () => new float[DotProducts.BlockRows], (j, _, dots) =>
        {
            gains[j] = Gain(units.AsSpan(j * dimension, dimension), clientUnits, clientWeights, reach, dots);
            return dots;
        }, _ => { });

        // Max-heap by gain, then lower tie rank; each entry remembers after how many picks its gain was computed.
        var queue = new PriorityQueue<(int Row, int Computed), (double Gain, int Tie)>(
            Comparer<(double Gain, int Tie)>.Create((a, b) => a.Gain != b.Gain ? b.Gain.CompareTo(a.Gain) : a.Tie.CompareTo(b.Tie)));
        for (var j = 0; j < rows; j++)
        {
            queue.Enqueue((j, 0), (gains[j], tieRank[j]));
        }

        var taken = new bool[rows];
        var scratch = new float[DotProducts.BlockRows];
        var duplicate2 = duplicateDistance * duplicateDistance;
        while (picks.Count < count)
        {
            if (!queue.TryDequeue(out var entry, out var bound))
            {
                break;
            }

            var (row, computed) = entry;
            if (taken[row])
            {
                continue;
            }

            if (computed != picks.Count)
            {
                var gain = Gain(units.AsSpan(row * dimension, dimension), clientUnits, clientWeights, reach, scratch);
                queue.Enqueue((row, picks.Count), (gain, tieRank[row]));
                continue;
            }

            // Fresh and still the best: every other bound is at most this gain.
            if (!(bound.Gain > 0) && picks.Count > 0)
            {
                break;
            }

            taken[row] = true;
            var pick = units.AsSpan(row * dimension, dimension);
            for (var c = 0; c < clients.Length; c++)
            {
                reach[c] = Math.Min(reach[c], (float)Distance(pick, clientUnits.AsSpan(c * dimension, dimension)));
            }

            var duplicates = new List<int>();
            for (var j = 0; j < rows; j++)
            {
                if (!taken[j] && SquaredDistance(pick, units.AsSpan(j * dimension, dimension)) <= duplicate2)
                {
                    taken[j] = true;
                    duplicates.Add(j);
                }
            }

            picks.Add((row, duplicates));
        }

        return picks;
    }

    private static double Gain(ReadOnlySpan<float> row, float[] clientUnits, float[] weights, float[] reach, float[] dots)
    {
        var dimension = row.Length;
        double total = 0;
        for (var start = 0; start < weights.Length; start += DotProducts.BlockRows)
        {
            var n = Math.Min(DotProducts.BlockRows, weights.Length - start);
            var block = dots.AsSpan(0, n);
            DotProducts.Block(row, clientUnits.AsSpan(start * dimension, n * dimension), block);

            // max(0, reach - |x_c - x_j|) with |x_c - x_j| = sqrt(max(0, 2 - 2 x_c.x_j)) for unit rows, weighted and summed.
            TensorPrimitives.Multiply(block, -2f, block);
            TensorPrimitives.Add(block, 2f, block);
            TensorPrimitives.Max(block, 0f, block);
            TensorPrimitives.Sqrt(block, block);
            TensorPrimitives.Subtract(reach.AsSpan(start, n), block, block);
            TensorPrimitives.Max(block, 0f, block);
            total += TensorPrimitives.Dot(block, weights.AsSpan(start, n));
        }

        return total;
    }

    private static double SquaredDistance(ReadOnlySpan<float> a, ReadOnlySpan<float> b) =>
        Math.Max(0, 2 - (2 * (double)TensorPrimitives.Dot(a, b)));

    private static double Distance(ReadOnlySpan<float> a, ReadOnlySpan<float> b) => Math.Sqrt(SquaredDistance(a, b));
}
