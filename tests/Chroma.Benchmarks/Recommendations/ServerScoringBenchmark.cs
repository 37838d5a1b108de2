using System.Diagnostics;
using System.Globalization;
using Chroma.Server.Hosting;
using Chroma.Server.Tests.Recommendations.Data;

namespace Chroma.Benchmarks.Recommendations;

/// <summary>
/// The scoring goals measured through the real client and an embedded server: how long after the
/// last production batch is acknowledged the background worker has scored everything (all signals,
/// stored in SQLite), the same for a small incremental batch, and how fast GetRecommendations
/// answers while a long pass runs (it must not wait for it).
/// <code>dotnet run -c Release --project tests/Chroma.Benchmarks -- recs-server [training] [production] [dimension]</code>
/// </summary>
internal static class ServerScoringBenchmark
{
    private const int Classes = 10;
    private const int IncrementalCount = 1_000;
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(10);

    public static async Task<int> RunAsync(string[] args)
    {
        var trainingCount = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 10_000;
        var productionCount = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 100_000;
        var d = args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 128;
        var options = new ChromaServerOptions { Host = "127.0.0.1", Port = 0, DataDirectory = Path.Combine(Path.GetTempPath(), "chroma-recs-server-" + Guid.NewGuid().ToString("N")[..8]) };
        Console.WriteLine($"cores={Environment.ProcessorCount} training={trainingCount} production={productionCount} d={d} debounce={options.ScoringDebounce.TotalMilliseconds} ms");
        await using var server = await ChromaServer.StartAsync(options);
        await using var client = new ChromaClient(new ChromaClientOptions
        {
            Endpoint = server.Endpoint,
            QueueCapacity = productionCount + trainingCount,
            MaxBatchSize = 1_000,
            FlushInterval = TimeSpan.FromMilliseconds(20),
        });
        var set = client.GetEmbeddingSet(new EmbeddingSetDescriptor("bench", "1", "fc", d));

        var (training, labels) = SyntheticEmbeddings.Clusters(Classes, trainingCount / Classes, d, 4, seed: 1);
        for (var i = 0; i < labels.Length; i++)
        {
            set.LogTraining(training.AsSpan(i * d, d), labels[i]);
        }

        LogProduction(set, productionCount, d, seed: 2);
        var clock = Stopwatch.StartNew();
        await client.FlushAsync().WaitAsync(Timeout);
        var acknowledged = clock.Elapsed;
        Report($"ingest {trainingCount + productionCount:N0} records (acknowledged, durable)", acknowledged);

        // While the first (long) pass runs: the query answers from what is published so far.
        var during = Stopwatch.StartNew();
        var partial = await client.GetRecommendationsAsync(set.Descriptor.Id);
        Report($"GetRecommendations during the pass (scored {partial.ScoredRecords:N0}, pending {partial.PendingRecords:N0})", during.Elapsed);

        await client.WaitForRecommendationsAsync(set.Descriptor.Id, productionCount, Timeout);
        Report($"all {productionCount:N0} scored after the last ack (debounce, fit, all signals, stored)", clock.Elapsed - acknowledged);

        var first = Stopwatch.StartNew();
        await client.GetRecommendationsAsync(set.Descriptor.Id);
        Report("GetRecommendations, first call (ranks and caches)", first.Elapsed);
        var cached = Stopwatch.StartNew();
        await client.GetRecommendationsAsync(set.Descriptor.Id);
        Report("GetRecommendations, cached", cached.Elapsed);

        LogProduction(set, IncrementalCount, d, seed: 3);
        clock.Restart();
        await client.FlushAsync().WaitAsync(Timeout);
        acknowledged = clock.Elapsed;
        await client.WaitForRecommendationsAsync(set.Descriptor.Id, productionCount + IncrementalCount, Timeout);
        Report($"{IncrementalCount:N0} new records scored after their ack (includes the {options.ScoringDebounce.TotalMilliseconds} ms debounce)", clock.Elapsed - acknowledged);
        return 0;
    }

    private static void LogProduction(EmbeddingSet set, int count, int d, int seed)
    {
        var (embeddings, predicted) = SyntheticEmbeddings.Clusters(Classes, count / Classes, d, 4, seed);
        var random = new Random(seed);
        var probabilities = new float[Classes];
        for (var i = 0; i < predicted.Length; i++)
        {
            for (var c = 0; c < Classes; c++)
            {
                probabilities[c] = (float)Math.Exp(3 * random.NextGaussian());
            }

            var sum = probabilities.Sum();
            for (var c = 0; c < Classes; c++)
            {
                probabilities[c] /= sum;
            }

            set.LogProduction(embeddings.AsSpan(i * d, d), predicted[i], probabilities);
        }
    }

    private static void Report(string what, TimeSpan elapsed) =>
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{elapsed.TotalSeconds,9:0.000} s  {what}"));
}
