using System.Numerics.Tensors;

namespace Chroma.Server.Recommendations;

/// <summary>
/// Picks a spread-out, high-scoring subset in order: k-center greedy with the score mixed in.
/// </summary>
/// <remarks>
/// With scores scaled to <c>s_i</c> in 0..1 (divided by the largest) and <c>r_i</c> the distance from
/// candidate i to the nearest already-picked one, divided by the largest such distance:
/// <code>
/// first  = argmax_i s_i
/// next   = argmax_i (1 - lambda) s_i + lambda r_i      (lambda = DiversityWeight)
/// </code>
/// lambda = 0 ranks by score; lambda = 1 is classic k-center greedy (farthest point first). In
/// between, a slightly lower-scored record from an unexplored region beats a near-copy of one
/// already picked, so the top 20 are 20 different problems. Ties break by lower index.
/// </remarks>
internal static class KCenterGreedySelector
{
    /// <summary>Returns up to <paramref name="count"/> indices into the candidates, in pick order.</summary>
    public static IReadOnlyList<int> Select(
        IReadOnlyList<ReadOnlyMemory<float>> unitEmbeddings,
        IReadOnlyList<double> scores,
        int count,
        double diversityWeight)
    {
        ArgumentNullException.ThrowIfNull(unitEmbeddings);
        ArgumentNullException.ThrowIfNull(scores);
        var n = unitEmbeddings.Count;
        count = Math.Min(count, n);
        var picked = new List<int>(count);
        if (count <= 0)
        {
            return picked;
        }

        var maxScore = scores.Max();
        var scaled = scores.Select(s => maxScore > 0 ? s / maxScore : 0).ToArray();
        var nearest = Enumerable.Repeat(double.PositiveInfinity, n).ToArray();
        var taken = new bool[n];
        var next = ArgMax(n, i => taken[i] ? double.NegativeInfinity : scaled[i]);
        while (true)
        {
            picked.Add(next);
            taken[next] = true;
            if (picked.Count == count)
            {
                return picked;
            }

            var center = unitEmbeddings[next];
            Parallel.For(0, n, i =>
            {
                if (!taken[i])
                {
                    nearest[i] = Math.Min(nearest[i], TensorPrimitives.Distance(unitEmbeddings[i].Span, center.Span));
                }
            });

            var maxNearest = 0.0;
            for (var i = 0; i < n; i++)
            {
                if (!taken[i])
                {
                    maxNearest = Math.Max(maxNearest, nearest[i]);
                }
            }

            next = ArgMax(n, i => taken[i]
                ? double.NegativeInfinity
                : ((1 - diversityWeight) * scaled[i]) + (diversityWeight * (maxNearest > 0 ? nearest[i] / maxNearest : 0)));
        }
    }

    private static int ArgMax(int n, Func<int, double> value)
    {
        var best = 0;
        var bestValue = double.NegativeInfinity;
        for (var i = 0; i < n; i++)
        {
            var v = value(i);
            if (v > bestValue)
            {
                bestValue = v;
                best = i;
            }
        }

        return best;
    }
}
