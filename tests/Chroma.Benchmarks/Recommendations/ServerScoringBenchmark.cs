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

    // Each probe caller waits this long between calls (a busy orchestrator probe, a person paging fast): back to back
    // calls without a gap were themselves about a third of the machine's CPU during the pass.
    private static readonly TimeSpan ProbeGap = TimeSpan.FromMilliseconds(20);

    public static async Task<int> RunAsync(string[] args)
    {
        var trainingCount = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 10_000;
        var productionCount = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 100_000;
        var d = args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 128;
        var options = new ChromaServerOptions { Host = "127.0.0.1", Port = 0, DataDirectory = Path.Combine(Path.GetTempPath(), "chroma-recs-server-" + Guid.NewGuid().ToString("N")[..8]) };
        Console.WriteLine($"cores={Environment.ProcessorCount} training={trainingCount} production={productionCount} d={d} debounce={options.Scoring.Debounce.TotalMilliseconds} ms");
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

        // Health checks and GetRecords pages (one caller each, ProbeGap between calls) until the pass has scored everything.
        var cpuBefore = Process.GetCurrentProcess().TotalProcessorTime;
        var latencies = await ProbeDuringPassAsync(server.Endpoint, client, set.Descriptor.Id, productionCount);
        Report($"all {productionCount:N0} scored after the last ack (debounce, fit, all signals, stored)", clock.Elapsed - acknowledged);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"          process CPU during the pass {(Process.GetCurrentProcess().TotalProcessorTime - cpuBefore).TotalSeconds:0.0} s (server and this client share the process)"));
        latencies.Write();

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
        Report($"{IncrementalCount:N0} new records scored after their ack (includes the {options.Scoring.Debounce.TotalMilliseconds} ms debounce)", clock.Elapsed - acknowledged);
        return 0;
    }

    private static async Task<PassLatencies> ProbeDuringPassAsync(Uri endpoint, ChromaClient client, string setId, int productionCount)
    {
        using var channel = Grpc.Net.Client.GrpcChannel.ForAddress(endpoint);
        var health = new Grpc.Health.V1.Health.HealthClient(channel);
        var result = new PassLatencies();
        using var done = new CancellationTokenSource();
        var healthLoop = Task.Run(async () =>
        {
            while (!done.IsCancellationRequested)
            {
                var call = Stopwatch.StartNew();
                await health.CheckAsync(new Grpc.Health.V1.HealthCheckRequest(), deadline: DateTime.UtcNow.AddSeconds(10));
                result.Health.Add(call.Elapsed.TotalMilliseconds);
                await Task.Delay(ProbeGap);
            }
        });
        var recordsLoop = Task.Run(async () =>
        {
            string? token = null;
            while (!done.IsCancellationRequested)
            {
                var call = Stopwatch.StartNew();
                var records = await client.GetRecordsAsync(setId, new RecordQuery { PageSize = 100, PageToken = token });
                result.GetRecords.Add(call.Elapsed.TotalMilliseconds);
                token = records.NextPageToken;
                await Task.Delay(ProbeGap);
            }
        });
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < Timeout)
        {
            var status = await client.GetRecommendationsAsync(setId);
            if (status.ScoredRecords >= productionCount && status.PendingRecords == 0 && !status.Stale)
            {
                break;
            }

            await Task.Delay(200);
        }

        await done.CancelAsync();
        await Task.WhenAll(healthLoop, recordsLoop);
        return result;
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

    private sealed class PassLatencies
    {
        public List<double> Health { get; } = [];

        public List<double> GetRecords { get; } = [];

        public void Write()
        {
            foreach (var (name, samples) in new[] { ("health check", Health), ("GetRecords (page of 100)", GetRecords) })
            {
                samples.Sort();
                double At(double q) => samples.Count == 0 ? double.NaN : samples[Math.Max(0, (int)Math.Ceiling(q * samples.Count) - 1)];
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"          {name} during the pass: {samples.Count} calls, p50 {At(0.5):0.0} ms, p99 {At(0.99):0.0} ms, max {At(1):0.0} ms"));
            }
        }
    }

    private static void Report(string what, TimeSpan elapsed) =>
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{elapsed.TotalSeconds,9:0.000} s  {what}"));
}
