using Chroma.Server.Indexing.Hnsw;

namespace Chroma.Server.Indexing.Internal;

/// <summary>
/// What a recall estimate found: the smallest search breadth (ef) whose recall@10 on the sample reached the
/// target, and that recall. <paramref name="AtCount"/> is the graph size it was measured at.
/// </summary>
internal sealed record RecallEstimate(int SearchBreadth, double RecallAt10, int SampleSize, int AtCount);

/// <summary>
/// Picks a graph's default search breadth: queries near a random sample of its own vectors are searched
/// exactly (a scan) and through the graph at rising breadths; the first breadth whose recall@10 reaches the
/// target wins. A stored vector itself would be too easy a query (the walk that reaches it finds its
/// neighbours through its own links), so each query is moved off it in a random direction by half the
/// distance to its nearest neighbour (as the graph finds it): in-distribution, but not a node. Runs on the index
/// threads; costs about sample x count x dimension multiply-adds for the exact side.
/// </summary>
internal static class RecallEstimator
{
    /// <summary>Recall@10 the default breadth must reach on the sample.</summary>
    public const double TargetRecall = 0.95;

    /// <summary>Sample queries per estimate.</summary>
    public const int DefaultSampleSize = 200;

    /// <summary>The widest default breadth tried; sets that need more report the recall reached there.</summary>
    public const int MaxBreadth = 1024;

    private const int K = 10;

    private static readonly int[] s_ladder = [64, 96, 128, 192, 256, 384, 512, 768, MaxBreadth];

    /// <summary>Estimates on <paramref name="threads"/>; null when the graph holds fewer than K + 1 vectors.</summary>
    public static async Task<RecallEstimate?> EstimateAsync(
        HnswIndex graph, IndexBuildThreads threads, int sampleSize, int seed, CancellationToken cancellationToken = default)
    {
        var atCount = graph.Count;
        if (atCount <= K)
        {
            return null;
        }

        var random = new Random(seed);
        var sample = graph.SampleLive(sampleSize, random);
        var directions = sample.Select(s => UnitDirection(s.Vector.Length, random)).ToArray();
        var queries = new float[sample.Count][];
        var truth = new long[sample.Count][];
        await threads.ForAsync(
            sample.Count,
            i =>
            {
                var (key, vector) = sample[i];

                // Only the step's length depends on this neighbour, so the graph's answer will do (a scan of every
                // vector costs as much as the truth below; at a million 128-d vectors the two took 12.6 s).
                var nearestOther = graph.Search(vector, 2, tag: null, ef: s_ladder[0]).FirstOrDefault(r => r.Key != key);
                // Half the Euclidean distance: under cosine the stored vectors are unit, where |a - b|^2 = 2 (1 - cos).
                var squared = graph.Options.Metric == HnswMetric.Cosine ? 2 * nearestOther.Distance : nearestOther.Distance;
                var step = MathF.Sqrt(Math.Max(0f, squared)) * 0.5f;
                queries[i] = [.. vector.Select((x, d) => x + (directions[i][d] * step))];
                truth[i] = [.. graph.SearchExactly(queries[i], K).Select(r => r.Key)];
            },
            cancellationToken).ConfigureAwait(false);

        var hits = new int[sample.Count];
        double recall = 0;
        foreach (var ef in s_ladder)
        {
            await threads.ForAsync(
                sample.Count,
                i => hits[i] = Overlap([.. graph.Search(queries[i], K, tag: null, ef: ef).Select(r => r.Key)], truth[i]),
                cancellationToken).ConfigureAwait(false);
            var expected = truth.Sum(t => t.Length);
            recall = expected == 0 ? 1 : hits.Sum() / (double)expected;
            if (recall >= TargetRecall)
            {
                return new RecallEstimate(ef, recall, sample.Count, atCount);
            }
        }

        return new RecallEstimate(MaxBreadth, recall, sample.Count, atCount);
    }

    /// <summary>A random unit vector (Gaussian components, normalised).</summary>
    private static float[] UnitDirection(int dimension, Random random)
    {
        var direction = new float[dimension];
        for (var d = 0; d < dimension; d++)
        {
            // Box-Muller: a Gaussian component, so the direction is uniform on the sphere.
            direction[d] = (float)(Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble()));
        }

        var norm = MathF.Sqrt(direction.Sum(x => x * x));
        return norm > 0 ? [.. direction.Select(x => x / norm)] : direction;
    }

    private static int Overlap(long[] found, long[] truth) => found.Count(truth.Contains);
}
