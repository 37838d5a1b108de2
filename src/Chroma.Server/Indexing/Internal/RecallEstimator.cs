using Chroma.Server.Indexing.Hnsw;

namespace Chroma.Server.Indexing.Internal;

/// <summary>
/// What a recall estimate found: the smallest search breadth (ef) whose recall@10 on the sample reached the
/// target, and that recall. <paramref name="AtCount"/> is the graph size it was measured at.
/// <paramref name="NearDistance"/> is the 95th percentile, over the sample, of the Euclidean distance from a stored
/// vector to its nearest vector that is no copy of it: how near the data a query must be for the breadth to serve it
/// (0 when unknown). <paramref name="Scheme"/> is how it was taken (<see cref="RecallEstimator.Scheme"/>; 0 in files
/// saved before December 6, which are estimated again when loaded).
/// </summary>
internal sealed record RecallEstimate(int SearchBreadth, double RecallAt10, int SampleSize, int AtCount, float NearDistance = 0, int Scheme = 0);

/// <summary>
/// Picks a graph's default search breadth: queries near a random sample of its own vectors are searched
/// exactly (a scan) and through the graph at rising breadths; the first breadth whose recall@10 reaches the
/// target wins. A stored vector itself would be too easy a query (the walk that reaches it finds its
/// neighbours through its own links), so each query is moved off it in a random direction by half the
/// distance to its nearest neighbour that is no copy of it (as the graph finds it): in-distribution, but not a node.
/// Copies count once in the sample (a group of c stored copies is drawn as often as one distinct vector), and a found
/// vector as near as the exact tenth counts as found (<see cref="Hits"/>). Runs on the index threads; costs about
/// sample x count x dimension multiply-adds for the exact side, with the vectors read from memory once per
/// <see cref="ExactGroup"/> queries. Measured against fresh queries on seven vector sets
/// (`recall-estimate`, benchmarks README).
/// </summary>
internal static class RecallEstimator
{
    /// <summary>
    /// How estimates are taken now: 1 since December 6 (copies drawn once, ties counted, the near distance recorded), 2
    /// since the ladder goes on past 1,024 (December 6, later). An estimate of an older scheme is stale: taken while a
    /// burst was linked, it could hold a set at the widest breadth, and one that stopped at 1,024 below the target may
    /// reach it on the longer ladder.
    /// </summary>
    public const int Scheme = 2;

    /// <summary>Recall@10 the default breadth must reach on the sample.</summary>
    public const double TargetRecall = 0.95;

    /// <summary>
    /// How much a graph may grow or shrink, as a share of the size it was estimated at, before it is estimated again. A
    /// quarter until December 6: a million-record set that took 200,000 more in a burst kept breadth 128 and its estimate
    /// of 0.955 while fresh queries found 0.94 (outside-in probe K). The estimate's exact side scanned the whole set once
    /// per sample query, bound by memory: a trace at 1,444,000 128-d records put about 50 s of the index threads in
    /// it. Since December 6 it reads the vectors once per <see cref="ExactGroup"/> queries (about 14 s in the same
    /// trace, beside a restart's read-back). Linking the tenth it waits for (144,000 records at about 1,000 a second
    /// per core) costs several times that, so the estimate stays a minor share of the work growth brings.
    /// </summary>
    public const double StaleChange = 0.1;

    /// <summary>Sample queries per estimate.</summary>
    public const int DefaultSampleSize = 200;

    /// <summary>
    /// The widest default breadth tried; sets that need more report the recall reached there. Up to December 6 it was
    /// 1,024, where 150,000 isotropic 256-d vectors reached 0.88 of fresh queries' ten nearest and vectors of norms
    /// 0.01-100 0.92 (`recall-estimate --records 150000`, benchmarks README).
    /// </summary>
    public const int MaxBreadth = 4096;

    private const int K = 10;

    /// <summary>
    /// Sample queries whose exact answers one pass over the vectors finds: 200 queries make 7 groups, so both index
    /// threads of a 2-core machine work and the vectors are read 7 times rather than 200.
    /// </summary>
    private const int ExactGroup = 32;

    /// <summary>Gets the breadths tried, narrowest first.</summary>
    internal static IReadOnlyList<int> Ladder { get; } = [64, 96, 128, 192, 256, 384, 512, 768, 1024, 1536, 2048, 3072, MaxBreadth];

    /// <summary>How many neighbours are searched for a vector that differs from the sampled one (copies come first).</summary>
    private static readonly int[] s_copySearchWidths = [2, 32, 512];

    /// <summary>Estimates on <paramref name="threads"/>; null when the graph holds fewer than K + 1 vectors.</summary>
    public static async Task<RecallEstimate?> EstimateAsync(
        HnswIndex graph, IndexBuildThreads threads, int sampleSize, int seed, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(graph);
        ArgumentNullException.ThrowIfNull(threads);
        var atCount = graph.Count;
        if (atCount <= K)
        {
            return null;
        }

        var random = new Random(seed);
        var sample = await DistinctSampleAsync(graph, threads, sampleSize, random, cancellationToken).ConfigureAwait(false);
        var nearDistance = Percentile95([.. sample.Select(s => s.Nearest)]);
        var directions = sample.Select(s => UnitDirection(s.Vector.Length, random)).ToArray();
        var queries = new float[sample.Count][];
        for (var i = 0; i < sample.Count; i++)
        {
            var (_, vector, nearest) = sample[i];
            queries[i] = [.. vector.Select((x, d) => x + (directions[i][d] * nearest * 0.5f))];
        }

        // The truth in groups, each group's in one pass over the vectors (HnswGraph.SearchExactlyMany).
        var truth = new HnswSearchResult[sample.Count][];
        var groups = (sample.Count + ExactGroup - 1) / ExactGroup;
        await threads.ForAsync(
            groups,
            g =>
            {
                var first = g * ExactGroup;
                var found = graph.SearchExactly(queries[first..Math.Min(sample.Count, first + ExactGroup)], K);
                found.CopyTo(truth, first);
            },
            cancellationToken).ConfigureAwait(false);

        var hits = new int[sample.Count];
        var expected = new int[sample.Count];
        double recall = 0;
        foreach (var ef in Ladder)
        {
            await threads.ForAsync(
                sample.Count,
                i =>
                {
                    // A true neighbour deleted since the truth was taken can no longer be found: it is not expected. At
                    // a million records being deleted a million at a time, estimates that counted them missed put the
                    // default breadth at 4,096 where 128 served (a retention probe, benchmarks README).
                    var found = graph.Search(queries[i], K, tag: null, ef: ef);
                    expected[i] = truth[i].Count(t => graph.Contains(t.Key));
                    hits[i] = Math.Min(expected[i], Hits(found, truth[i]));
                },
                cancellationToken).ConfigureAwait(false);
            var total = expected.Sum();
            recall = total == 0 ? 1 : hits.Sum() / (double)total;
            if (recall >= TargetRecall)
            {
                return new RecallEstimate(ef, recall, sample.Count, atCount, nearDistance, Scheme);
            }
        }

        return new RecallEstimate(MaxBreadth, recall, sample.Count, atCount, nearDistance, Scheme);
    }

    /// <summary>
    /// Up to <paramref name="size"/> stored vectors, each copy group (vectors at distance 0, also under cosine within
    /// <see cref="CopyDistance"/>) as likely as one distinct vector: a group of c is taken with probability 1 / c. A set
    /// that logged one input many times (a default value, the training rows every epoch) is then sampled as the distinct
    /// inputs fresh queries resemble, not mostly as those copies, which any copy answers exactly. With each, the
    /// Euclidean distance to its nearest vector that is no copy of it (0 when none is found among 512).
    /// </summary>
    private static async Task<List<(long Key, float[] Vector, float Nearest)>> DistinctSampleAsync(
        HnswIndex graph, IndexBuildThreads threads, int size, Random random, CancellationToken cancellationToken)
    {
        var candidates = graph.SampleLive(size * 4, random);
        var measured = new (float Nearest, int Copies)[candidates.Count];
        await threads.ForAsync(candidates.Count, i => measured[i] = NearestDiffering(graph, candidates[i].Key, candidates[i].Vector), cancellationToken)
            .ConfigureAwait(false);
        var sample = new List<(long, float[], float)>(size);
        for (var i = 0; i < candidates.Count && sample.Count < size; i++)
        {
            if (random.NextDouble() * (measured[i].Copies + 1) < 1)
            {
                sample.Add((candidates[i].Key, candidates[i].Vector, measured[i].Nearest));
            }
        }

        return sample;
    }

    /// <summary>The Euclidean distance from a stored vector to its nearest vector that differs from it, and its copies found.</summary>
    private static (float Nearest, int Copies) NearestDiffering(HnswIndex graph, long key, float[] vector)
    {
        // Only the distance matters, so the graph's answer will do (a scan of every vector would cost as much as the
        // truth; at a million 128-d vectors the two took 12.6 s).
        var copies = 0;
        foreach (var k in s_copySearchWidths)
        {
            var found = graph.Search(vector, k, tag: null, ef: Math.Max(Ladder[0], k));
            copies = found.Count(r => r.Key != key && r.Distance <= CopyDistance(graph));
            var differing = found.FirstOrDefault(r => r.Key != key && r.Distance > CopyDistance(graph));
            if (differing.Distance > 0 || found.Length < k)
            {
                // Under cosine the stored vectors are unit, where |a - b|^2 = 2 (1 - cos).
                var squared = graph.Options.Metric == HnswMetric.Cosine ? 2 * differing.Distance : differing.Distance;
                return (MathF.Sqrt(Math.Max(0f, squared)), copies);
            }
        }

        return (0f, copies);
    }

    /// <summary>Distances at or below this are copies: 0 under L2, 1e-6 (an angle of 0.08 degrees) under cosine and inner product.</summary>
    private static float CopyDistance(HnswIndex graph) => graph.Options.Metric == HnswMetric.L2 ? 0f : 1e-6f;

    /// <summary>
    /// Found vectors that are among the exact ten or as near as the tenth (within a float tolerance): copies of a vector
    /// are interchangeable, and so is a vector linked into the graph after the truth was taken (the estimate runs beside
    /// the worker's inserts) that is nearer than it. Counted by id alone, a set that holds many copies of one input
    /// estimated 0.69-0.76 where any of its copies was a right answer, and got the widest breadth.
    /// </summary>
    internal static int Hits(HnswSearchResult[] found, HnswSearchResult[] truth)
    {
        if (truth.Length == 0)
        {
            return 0;
        }

        var bound = truth[^1].Distance;
        var tolerance = (Math.Abs(bound) * 1e-5f) + 1e-7f;
        return Math.Min(truth.Length, found.Count(f => f.Distance <= bound + tolerance || truth.Any(t => t.Key == f.Key)));
    }

    private static float Percentile95(float[] values)
    {
        if (values.Length == 0)
        {
            return 0f;
        }

        Array.Sort(values);
        return values[Math.Min(values.Length - 1, (int)Math.Ceiling(0.95 * values.Length) - 1)];
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
}
