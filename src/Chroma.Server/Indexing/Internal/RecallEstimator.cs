using Chroma.Server.Indexing.Hnsw;

namespace Chroma.Server.Indexing.Internal;

/// <summary>
/// What a recall estimate found: the smallest search breadth (ef) whose recall@10 on the sample reached the
/// target, and that recall. <paramref name="AtCount"/> is the graph size it was measured at.
/// </summary>
internal sealed record RecallEstimate(int SearchBreadth, double RecallAt10, int SampleSize, int AtCount);

/// <summary>
/// Picks a graph's default search breadth: a random sample of its own vectors is searched exactly (a scan)
/// and through the graph at rising breadths; the first breadth whose recall@10 (of the 10 nearest other
/// records, the query record left out) reaches the target wins. Runs on the index threads; costs about
/// sample x count x dimension multiply-adds for the exact side.
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

        var sample = graph.SampleLive(sampleSize, new Random(seed));
        var truth = new long[sample.Count][];
        await threads.ForAsync(
            sample.Count,
            i => truth[i] = Others(graph.SearchExactly(sample[i].Vector, K + 1), sample[i].Key),
            cancellationToken).ConfigureAwait(false);

        var hits = new int[sample.Count];
        double recall = 0;
        foreach (var ef in s_ladder)
        {
            await threads.ForAsync(
                sample.Count,
                i => hits[i] = Overlap(Others(graph.Search(sample[i].Vector, K + 1, tag: null, ef: ef), sample[i].Key), truth[i]),
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

    /// <summary>The first K keys other than the query's own.</summary>
    private static long[] Others(HnswSearchResult[] found, long self) =>
        [.. found.Select(r => r.Key).Where(key => key != self).Take(K)];

    private static int Overlap(long[] found, long[] truth) => found.Count(truth.Contains);
}
