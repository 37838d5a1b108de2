using System.Diagnostics;
using Chroma.Server.Indexing;
using Chroma.Server.Indexing.Hnsw;

namespace Chroma.Benchmarks.Kernels;

/// <summary>
/// <c>exact-scan</c>: one query's exact scan of <see cref="BruteForceVectorIndex"/>, the search a set gets before its
/// graph takes over (every record) and of its staged tail after (what the graph has not linked yet), at several sizes.
/// Random Gaussian vectors, k = 10, queries one after another on this thread after a warm-up. With <c>--callers</c>,
/// that many threads query at once for two seconds, each scanning on its own (<c>Search</c>) and then sharing passes
/// (<c>SearchTogether</c>, what a set's tail and its index before the first graph use): queries a second of each.
/// </summary>
internal static class ExactScanCommand
{
    public const string Usage = "[--records 32768,262144,1000000] [--dim 128] [--queries 50] [--cosine] [--callers 4,16]";

    public static int Run(CommandArguments args)
    {
        var sizes = args.IntList("records", "32768,262144,1000000");
        var dimension = args.Int("dim", 128);
        var queries = args.Int("queries", 50);
        var metric = args.Flag("cosine") ? HnswMetric.Cosine : HnswMetric.L2;
        var callers = args.IntList("callers", "0");
        args.RejectUnknown();

        Console.WriteLine($"| records | dim | metric | ms a query (median) | fastest | slowest | ns a vector (median) |");
        Console.WriteLine("|---|---|---|---|---|---|---|");
        var random = new Random(7);
        foreach (var records in sizes)
        {
            var index = new BruteForceVectorIndex(dimension, metric);
            var vector = new float[dimension];
            for (var i = 0; i < records; i++)
            {
                Fill(random, vector);
                index.Add(i, vector, "production");
            }

            var query = new float[dimension];
            for (var warm = 0; warm < 5; warm++)
            {
                Fill(random, query);
                index.Search(query, 10);
            }

            var times = new double[queries];
            for (var q = 0; q < queries; q++)
            {
                Fill(random, query);
                var started = Stopwatch.GetTimestamp();
                index.Search(query, 10);
                times[q] = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
            }

            Array.Sort(times);
            var median = times[queries / 2];
            Console.WriteLine($"| {records:N0} | {dimension} | {metric} | {median:F2} | {times[0]:F2} | {times[^1]:F2} | {median * 1e6 / records:F1} |");
            foreach (var count in callers.Where(c => c > 0))
            {
                var alone = Concurrent(index, dimension, count, together: false);
                var shared = Concurrent(index, dimension, count, together: true);
                Console.WriteLine($"|   {count} callers at once | | | each scanning: {alone:F0} queries/s | sharing passes: {shared:F0} queries/s | | |");
            }
        }

        return 0;
    }

    private static double Concurrent(BruteForceVectorIndex index, int dimension, int callers, bool together)
    {
        var answered = 0L;
        var stopwatch = Stopwatch.StartNew();
        var threads = Enumerable.Range(0, callers).Select(caller => new Thread(() =>
        {
            var random = new Random(caller);
            var query = new float[dimension];
            while (stopwatch.Elapsed < TimeSpan.FromSeconds(2))
            {
                Fill(random, query);
                _ = together ? index.SearchTogether(query, 10) : index.Search(query, 10);
                Interlocked.Increment(ref answered);
            }
        })).ToList();
        threads.ForEach(t => t.Start());
        threads.ForEach(t => t.Join());
        return answered / stopwatch.Elapsed.TotalSeconds;
    }

    private static void Fill(Random random, float[] vector)
    {
        for (var i = 0; i < vector.Length; i++)
        {
            vector[i] = (float)((random.NextDouble() * 2) - 1);
        }
    }
}
