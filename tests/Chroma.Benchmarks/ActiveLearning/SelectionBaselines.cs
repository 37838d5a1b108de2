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

    /// <summary>
    /// TypiClust (Hacohen et al. 2022) on unit embeddings, for comparison: k-means (k-means++ seeding, 20 Lloyd
    /// iterations) of the <paramref name="eligible"/> rows into <paramref name="budget"/> clusters; from each cluster,
    /// largest first, the row of highest typicality, 1 / mean distance to its min(20, size - 1) nearest cluster mates.
    /// Not prefix-stable: the clusters depend on the budget.
    /// </summary>
    public static int[] TypiClust(float[] units, int d, int[] eligible, int budget, int seed)
    {
        var n = eligible.Length;
        var k = Math.Min(budget, n);
        var random = new Random(seed);
        var centres = new float[k * d];
        var nearest = new double[n];
        Array.Fill(nearest, double.PositiveInfinity);
        var first = eligible[random.Next(n)];
        units.AsSpan(first * d, d).CopyTo(centres);
        for (var c = 1; c <= k; c++)
        {
            var centre = centres.AsSpan((c - 1) * d, d).ToArray();
            double total = 0;
            for (var i = 0; i < n; i++)
            {
                nearest[i] = Math.Min(nearest[i], TensorPrimitives.Distance(units.AsSpan(eligible[i] * d, d), centre) is var e ? e * e : 0);
                total += nearest[i];
            }

            if (c == k)
            {
                break;
            }

            var target = random.NextDouble() * total;
            var pick = n - 1;
            for (var i = 0; i < n; i++)
            {
                target -= nearest[i];
                if (target < 0)
                {
                    pick = i;
                    break;
                }
            }

            units.AsSpan(eligible[pick] * d, d).CopyTo(centres.AsSpan(c * d, d));
        }

        var assignment = new int[n];
        for (var iteration = 0; iteration < 20; iteration++)
        {
            Parallel.For(0, n, i =>
            {
                var row = units.AsSpan(eligible[i] * d, d);
                var best = 0;
                var bestDistance = float.PositiveInfinity;
                for (var c = 0; c < k; c++)
                {
                    var distance = TensorPrimitives.Distance(row, centres.AsSpan(c * d, d));
                    if (distance < bestDistance)
                    {
                        bestDistance = distance;
                        best = c;
                    }
                }

                assignment[i] = best;
            });
            var sums = new float[k * d];
            var counts = new int[k];
            for (var i = 0; i < n; i++)
            {
                counts[assignment[i]]++;
                TensorPrimitives.Add(sums.AsSpan(assignment[i] * d, d), units.AsSpan(eligible[i] * d, d), sums.AsSpan(assignment[i] * d, d));
            }

            for (var c = 0; c < k; c++)
            {
                if (counts[c] > 0)
                {
                    TensorPrimitives.Divide(sums.AsSpan(c * d, d), counts[c], centres.AsSpan(c * d, d));
                }
            }
        }

        var clusters = Enumerable.Range(0, n).GroupBy(i => assignment[i]).OrderByDescending(g => g.Count()).ThenBy(g => g.Key).ToList();
        var picks = new List<int>();
        foreach (var cluster in clusters)
        {
            var members = cluster.ToArray();
            var neighbours = Math.Min(20, members.Length - 1);
            var best = members[0];
            var bestTypicality = double.NegativeInfinity;
            foreach (var i in members)
            {
                var distances = members.Where(j => j != i).Select(j => (double)TensorPrimitives.Distance(units.AsSpan(eligible[i] * d, d), units.AsSpan(eligible[j] * d, d))).Order().Take(neighbours).ToList();
                var typicality = distances.Count == 0 ? 0 : 1 / (distances.Average() + 1e-12);
                if (typicality > bestTypicality)
                {
                    bestTypicality = typicality;
                    best = i;
                }
            }

            picks.Add(eligible[best]);
        }

        return [.. picks];
    }
}
