using System.Diagnostics;
using Chroma.Server.Indexing;
using Chroma.Server.Indexing.Hnsw;

namespace Chroma.Benchmarks.Kernels;

/// <summary>
/// <c>exact-scan</c>: one query's exact scan of <see cref="BruteForceVectorIndex"/>, the search a set gets before its
/// graph takes over (every record) and of its staged tail after (what the graph has not linked yet), at several sizes.
/// Random Gaussian vectors, k = 10, queries one after another on this thread after a warm-up.
/// </summary>
internal static class ExactScanCommand
{
    public const string Usage = "[--records 32768,262144,1000000] [--dim 128] [--queries 50] [--cosine]";

    public static int Run(CommandArguments args)
    {
        var sizes = args.IntList("records", "32768,262144,1000000");
        var dimension = args.Int("dim", 128);
        var queries = args.Int("queries", 50);
        var metric = args.Flag("cosine") ? HnswMetric.Cosine : HnswMetric.L2;
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
        }

        return 0;
    }

    private static void Fill(Random random, float[] vector)
    {
        for (var i = 0; i < vector.Length; i++)
        {
            vector[i] = (float)((random.NextDouble() * 2) - 1);
        }
    }
}
