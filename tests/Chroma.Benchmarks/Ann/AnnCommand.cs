using System.Diagnostics;
using System.Text.Json;
using Chroma.Benchmarks.Data;
using Chroma.Server.Indexing.Hnsw;

namespace Chroma.Benchmarks.Ann;

/// <summary>
/// The ANN benchmark: single-thread and all-core build time, memory, recall@k and single-threaded QPS per ef,
/// and insert throughput while one thread searches compared with inserting alone.
/// </summary>
internal static class AnnCommand
{
    public const string Usage =
        "--base B.fvecs --queries Q.fvecs [--groundtruth G.ivecs] [--k 10] [--m 16] [--ef-construction 200] " +
        "[--ef 10,20,40,80,160] [--metric l2|cosine|ip] [--upper-beam 8] [--limit N] [--json out.json] [--skip-insert-test]";

    private static readonly JsonSerializerOptions s_json = new() { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.CamelCase };

    public static int Run(CommandArguments args)
    {
        string basePath = args.Required("base");
        string queryPath = args.Required("queries");
        string? truthPath = args.Optional("groundtruth");
        int k = args.Int("k", 10);
        int m = args.Int("m", 16);
        int efConstruction = args.Int("ef-construction", 200);
        int upperBeam = args.Int("upper-beam", new HnswOptions { Dimension = 1 }.UpperBeam);
        int[] efs = args.IntList("ef", "10,20,40,80,160");
        string metricName = args.Optional("metric") ?? "l2";
        int limit = args.Int("limit", int.MaxValue);
        string? jsonPath = args.Optional("json");
        bool skipInsertTest = args.Flag("skip-insert-test");
        args.RejectUnknown();
        HnswMetric metric = metricName switch
        {
            "l2" => HnswMetric.L2,
            "cosine" => HnswMetric.Cosine,
            "ip" => HnswMetric.InnerProduct,
            _ => throw new ArgumentException($"--metric must be l2, cosine or ip, was '{metricName}'."),
        };

        (float[] baseData, int n, int dim) = VecsFile.ReadFloats(basePath);
        (float[] queries, int queryCount, int queryDim) = VecsFile.ReadFloats(queryPath);
        if (queryDim != dim)
        {
            throw new ArgumentException($"--queries has dimension {queryDim} but --base has {dim}.");
        }

        bool limited = limit < n;
        n = Math.Min(n, limit);
        int[] truth;
        int truthK;
        if (truthPath is not null && !limited)
        {
            (truth, int truthRows, truthK) = VecsFile.ReadInts(truthPath);
            if (truthRows != queryCount || truthK < k)
            {
                throw new ArgumentException($"--groundtruth has {truthRows} rows of {truthK}; need {queryCount} rows of at least {k}.");
            }
        }
        else
        {
            var sw0 = Stopwatch.StartNew();
            truth = ExactNeighbours.Compute(baseData, n, queries, queryCount, dim, k, metricName);
            truthK = k;
            Console.WriteLine($"exact ground truth ({queryCount} x {n}, all cores): {sw0.Elapsed.TotalSeconds:F1} s");
        }

        var options = new HnswOptions { Dimension = dim, Metric = metric, M = m, EfConstruction = efConstruction, UpperBeam = upperBeam };
        var report = new AnnReport
        {
            Tool = "Chroma HnswIndex",
            Dataset = Path.GetFileName(basePath),
            Count = n,
            Dim = dim,
            Queries = queryCount,
            K = k,
            M = m,
            EfConstruction = efConstruction,
            Metric = metricName,
            Threads = Environment.ProcessorCount,
        };

        using HnswIndex index = new(options);
        double cpu = ThreadCpuClock.Seconds();
        report.BuildSeconds1Thread = Time(() =>
        {
            for (int i = 0; i < n; i++)
            {
                index.Add(i, baseData.AsSpan(i * dim, dim));
            }
        });
        report.BuildCpuSeconds1Thread = ThreadCpuClock.Seconds() - cpu;
        Console.WriteLine($"build, 1 thread: {report.BuildSeconds1Thread:F2} s, {report.BuildCpuSeconds1Thread:F2} CPU s ({n / report.BuildSeconds1Thread:F0} inserts/s)");
        (report.UnreachableAfterBuild1Thread, _) = index.Connectivity();
        Console.WriteLine($"nodes no search reaches after the 1-thread build: {report.UnreachableAfterBuild1Thread} (queries below run on this graph as built)");

        HnswMemoryUsage memory = index.MemoryUsage();
        report.VectorBytes = memory.VectorBytes;
        report.GraphBytes = memory.GraphBytes;
        report.FileBytes = SavedSize(index);
        Console.WriteLine($"memory: vectors {memory.VectorBytes / 1048576.0:F1} MiB, graph {memory.GraphBytes / 1048576.0:F1} MiB, file {report.FileBytes / 1048576.0:F1} MiB");

        var results = new HnswSearchResult[k];
        foreach (int ef in efs)
        {
            RunQueries(index, queries, queryCount, dim, ef, results, truth, truthK, k);
            double recall = 0;
            double queryCpu = ThreadCpuClock.Seconds();
            double seconds = Time(() => recall = RunQueries(index, queries, queryCount, dim, ef, results, truth, truthK, k));
            queryCpu = ThreadCpuClock.Seconds() - queryCpu;
            double selfFirst = SelfFirstRate(index, baseData, n, dim, ef);
            report.Efs.Add(new AnnEfResult(ef, recall, queryCount / seconds, queryCount / queryCpu) { SelfFirst = selfFirst });
            Console.WriteLine($"ef {ef,4}: recall@{k} {recall:F4}, {queryCount / seconds:F0} queries/s, {queryCount / queryCpu:F0} per CPU s (1 thread), stored vector finds itself first {selfFirst:P1}");
        }

        using (HnswIndex parallelIndex = new(options))
        {
            report.BuildSecondsAllCores = Time(() => Parallel.For(0, n, i => parallelIndex.Add(i, baseData.AsSpan(i * dim, dim))));
            Console.WriteLine($"build, {Environment.ProcessorCount} threads: {report.BuildSecondsAllCores:F2} s");
            (report.UnreachableAfterBuildAllCores, _) = parallelIndex.Connectivity();
            (int linked, int left) = (0, 0);
            report.ReconnectSeconds = Time(() => (linked, left) = parallelIndex.Reconnect());
            double selfFirst = SelfFirstRate(parallelIndex, baseData, n, dim, efs[^1]);
            Console.WriteLine(
                $"nodes no search reaches after the {Environment.ProcessorCount}-thread build: {report.UnreachableAfterBuildAllCores}; " +
                $"reconnect linked {linked} ({left} left) in {report.ReconnectSeconds * 1000:F0} ms; then at ef {efs[^1]} a stored vector finds itself first {selfFirst:P2}");
        }

        if (!skipInsertTest)
        {
            InsertWhileSearching.Measure(options, baseData, n, dim, queries, queryCount, report);
        }

        if (jsonPath is not null)
        {
            Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(jsonPath))!);
            File.WriteAllText(jsonPath, JsonSerializer.Serialize(report, s_json));
        }

        return 0;
    }

    private static double RunQueries(HnswIndex index, float[] queries, int queryCount, int dim, int ef, HnswSearchResult[] results, int[] truth, int truthK, int k)
    {
        long hits = 0;
        for (int q = 0; q < queryCount; q++)
        {
            int found = index.Search(queries.AsSpan(q * dim, dim), results, ef: ef);
            ReadOnlySpan<int> expected = truth.AsSpan(q * truthK, k);
            for (int i = 0; i < found; i++)
            {
                if (expected.Contains((int)results[i].Key))
                {
                    hits++;
                }
            }
        }

        return hits / (double)(queryCount * k);
    }

    /// <summary>How often a stored vector (1,000 spread over the set) comes back as its own nearest neighbour, graph only.</summary>
    private static double SelfFirstRate(HnswIndex index, float[] baseData, int n, int dim, int ef)
    {
        int samples = Math.Min(1_000, n);
        int first = 0;
        var result = new HnswSearchResult[1];
        for (int s = 0; s < samples; s++)
        {
            int i = (int)((long)s * n / samples);
            first += index.Search(baseData.AsSpan(i * dim, dim), result, ef: ef) == 1 && result[0].Key == i ? 1 : 0;
        }

        return first / (double)samples;
    }

    private static long SavedSize(HnswIndex index)
    {
        string path = Path.Combine(Path.GetTempPath(), $"chroma-ann-{Environment.ProcessId}.hnsw");
        try
        {
            index.Save(path);
            return new FileInfo(path).Length;
        }
        finally
        {
            File.Delete(path);
        }
    }

    internal static double Time(Action action)
    {
        var sw = Stopwatch.StartNew();
        action();
        return sw.Elapsed.TotalSeconds;
    }
}
