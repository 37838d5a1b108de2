using System.Numerics.Tensors;

namespace Chroma.Benchmarks.ActiveLearning;

/// <summary>The textbook active-learning picks the label-efficiency benchmark compares Chroma's strategies with.</summary>
internal static class SelectionBaselines
{
    /// <summary>A seeded uniform sample of the pool.</summary>
    public static int[] Random(int poolCount, int budget, int seed)
    {
        var order = Enumerable.Range(0, poolCount).ToArray();
        new Random(seed).Shuffle(order);
        return order[..Math.Min(budget, poolCount)];
    }

    /// <summary>The highest-scored records (ties by index).</summary>
    public static int[] Top(double[] scores, int budget) =>
        [.. Enumerable.Range(0, scores.Length).OrderByDescending(i => scores[i]).ThenBy(i => i).Take(budget)];

    /// <summary>Shannon entropy of each probability vector.</summary>
    public static double[] Entropy(float[][] probabilities) =>
        [.. probabilities.Select(p => -p.Where(v => v > 0).Sum(v => v * Math.Log(v)))];

    /// <summary><c>-(p1 - p2)</c>: the smaller the margin between the top two classes, the larger.</summary>
    public static double[] Margin(float[][] probabilities) =>
        [.. probabilities.Select(p =>
        {
            var sorted = p.OrderDescending().ToArray();
            return -(double)(sorted[0] - sorted[1]);
        })];

    /// <summary>
    /// Core-set selection (Sener and Savarese 2018), greedy k-center on the unit embeddings: each pick is the pool
    /// record farthest from the training records and the records already picked.
    /// </summary>
    public static int[] KCenter(float[] trainingUnits, float[] poolUnits, int d, int budget)
    {
        var poolCount = poolUnits.Length / d;
        var nearest = new float[poolCount];
        Array.Fill(nearest, float.PositiveInfinity);
        Parallel.For(0, poolCount, i =>
        {
            var row = poolUnits.AsSpan(i * d, d);
            var best = float.PositiveInfinity;
            for (var t = 0; t < trainingUnits.Length / d; t++)
            {
                best = Math.Min(best, TensorPrimitives.Distance(row, trainingUnits.AsSpan(t * d, d)));
            }

            nearest[i] = best;
        });

        var picks = new List<int>(budget);
        for (var step = 0; step < Math.Min(budget, poolCount); step++)
        {
            var pick = TensorPrimitives.IndexOfMax(nearest);
            picks.Add(pick);
            var picked = poolUnits.AsSpan(pick * d, d).ToArray();
            Parallel.For(0, poolCount, i => nearest[i] = Math.Min(nearest[i], TensorPrimitives.Distance(poolUnits.AsSpan(i * d, d), picked)));
        }

        return [.. picks];
    }
}
