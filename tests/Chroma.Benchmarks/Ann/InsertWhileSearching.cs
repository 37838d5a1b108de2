using Chroma.Server.Indexing.Hnsw;

namespace Chroma.Benchmarks.Ann;

/// <summary>
/// Insert throughput with one thread searching concurrently versus inserting alone. The index is prebuilt with
/// half the base set; the third quarter is inserted alone, then the last quarter while a second thread searches
/// (ef 64) in a loop. The concurrent phase inserts into a larger index, so the ratio slightly understates it.
/// </summary>
internal static class InsertWhileSearching
{
    public static void Measure(HnswOptions options, float[] baseData, int n, int dim, float[] queries, int queryCount, AnnReport report)
    {
        using HnswIndex index = new(options);
        int half = n / 2, threeQuarters = 3 * n / 4;
        Parallel.For(0, half, i => index.Add(i, baseData.AsSpan(i * dim, dim)));

        double aloneCpu = ThreadCpuClock.Seconds();
        double alone = AnnCommand.Time(() =>
        {
            for (int i = half; i < threeQuarters; i++)
            {
                index.Add(i, baseData.AsSpan(i * dim, dim));
            }
        });
        aloneCpu = ThreadCpuClock.Seconds() - aloneCpu;

        long searches = 0;
        using var stop = new CancellationTokenSource();
        var searcher = new Thread(() =>
        {
            var results = new HnswSearchResult[10];
            int q = 0;
            while (!stop.IsCancellationRequested)
            {
                index.Search(queries.AsSpan(q * dim, dim), results, ef: 64);
                q = (q + 1) % queryCount;
                searches++;
            }
        });
        searcher.Start();
        double concurrentCpu = ThreadCpuClock.Seconds();
        double concurrent = AnnCommand.Time(() =>
        {
            for (int i = threeQuarters; i < n; i++)
            {
                index.Add(i, baseData.AsSpan(i * dim, dim));
            }
        });
        concurrentCpu = ThreadCpuClock.Seconds() - concurrentCpu;
        stop.Cancel();
        searcher.Join();

        report.InsertAlonePerSecond = (threeQuarters - half) / alone;
        report.InsertWhileSearchingPerSecond = (n - threeQuarters) / concurrent;
        report.SearchesDuringInsertPerSecond = searches / concurrent;
        report.InsertAlonePerCpuSecond = (threeQuarters - half) / aloneCpu;
        report.InsertWhileSearchingPerCpuSecond = (n - threeQuarters) / concurrentCpu;
        Console.WriteLine(
            $"insert alone {report.InsertAlonePerSecond:F0}/s, while 1 thread searches {report.InsertWhileSearchingPerSecond:F0}/s " +
            $"({report.InsertWhileSearchingPerSecond / report.InsertAlonePerSecond:P0}); searches meanwhile {report.SearchesDuringInsertPerSecond:F0}/s");
        Console.WriteLine(
            $"per CPU-second of the inserting thread: alone {report.InsertAlonePerCpuSecond:F0}, while searching " +
            $"{report.InsertWhileSearchingPerCpuSecond:F0} ({report.InsertWhileSearchingPerCpuSecond / report.InsertAlonePerCpuSecond:P0})");
    }
}
