using System.Diagnostics;
using System.Globalization;
using Chroma.Server.Hosting;
using Chroma.Server.Recommendations.Scheduling;
using Microsoft.Extensions.DependencyInjection;
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
    private static readonly TimeSpan RefreshAllowance = TimeSpan.FromSeconds(5);

    public static async Task<int> RunAsync(string[] args)
    {
        var trainingCount = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 10_000;
        var productionCount = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 100_000;
        var d = args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 128;
        var options = new ChromaServerOptions { Host = "127.0.0.1", Port = 0, DataDirectory = Path.Combine(Path.GetTempPath(), "chroma-recs-server-" + Guid.NewGuid().ToString("N")[..8]) };
        Console.WriteLine($"cores={Environment.ProcessorCount} training={trainingCount} production={productionCount} d={d} debounce={options.Scoring.Debounce.TotalMilliseconds} ms");
        await using var server = await ChromaServer.StartAsync(options);
        var started = Stopwatch.StartNew();
        var passesEnded = new PassesEnded();
        server.Services.GetRequiredService<ScoringScheduler>().PassCompleted += pass =>
        {
            WritePass(started.Elapsed, pass);
            passesEnded.Ended(pass.Total);
        };
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

        // Each incremental measurement starts on an idle worker: the pass before it (drift is measured after its ranking
        // is published) has ended, so the figure is this batch's own latency, not time queued behind that pass.
        await passesEnded.WaitForTotalAsync(productionCount, Timeout);

        // New records, two ways: left to the worker (it waits for the debounce; the client polls every 100 ms), and with
        // the server-side wait (GetRecommendations waits for a ranking that covers everything acknowledged, and starts
        // the pending pass at once instead of after its debounce).
        LogProduction(set, IncrementalCount, d, seed: 3);
        clock.Restart();
        await client.FlushAsync().WaitAsync(Timeout);
        acknowledged = clock.Elapsed;
        await client.WaitForRecommendationsAsync(set.Descriptor.Id, productionCount + IncrementalCount, Timeout);
        Report($"{IncrementalCount:N0} new records scored after their ack, left to the worker (includes the {options.Scoring.Debounce.TotalMilliseconds} ms debounce, polled)", clock.Elapsed - acknowledged);

        await passesEnded.WaitForTotalAsync(productionCount + IncrementalCount, Timeout);
        LogProduction(set, IncrementalCount, d, seed: 4);
        clock.Restart();
        await client.FlushAsync().WaitAsync(Timeout);
        acknowledged = clock.Elapsed;
        await client.WaitForRecommendationsAsync(set.Descriptor.Id, Timeout);
        Report($"{IncrementalCount:N0} new records scored after their ack, with the server-side wait (no debounce)", clock.Elapsed - acknowledged);

        // The wait above asked for the ranking, so when the pass ended the server computed it again in the background: a
        // client polling its queue a few seconds after a pass finds it ready (before, its call ranked the whole set).
        await passesEnded.WaitForTotalAsync(productionCount + (2 * IncrementalCount), Timeout);
        await Task.Delay(RefreshAllowance);
        var afterPass = Stopwatch.StartNew();
        await client.GetRecommendationsAsync(set.Descriptor.Id);
        Report($"GetRecommendations {RefreshAllowance.TotalSeconds:0} s after that pass (the ranking in use was refreshed in the background)", afterPass.Elapsed);
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

    // The most records the worker's passes have held when they ended (it only grows in this benchmark).
    private sealed class PassesEnded
    {
        private int _total;

        public void Ended(int total) => Interlocked.Exchange(ref _total, Math.Max(total, Volatile.Read(ref _total)));

        public async Task WaitForTotalAsync(int total, TimeSpan timeout)
        {
            var deadline = Stopwatch.StartNew();
            while (Volatile.Read(ref _total) < total)
            {
                if (deadline.Elapsed > timeout)
                {
                    throw new TimeoutException($"no scoring pass ended holding {total:N0} records within {timeout}");
                }

                await Task.Delay(10);
            }
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

    // The worker's own timeline: when each pass ended, what it scored, and for a refit where the time went.
    private static void WritePass(TimeSpan at, ScoringPassResult pass)
    {
        var fit = pass.Fit is { } f
            ? string.Create(CultureInfo.InvariantCulture,
                $"; read training {pass.ReadTraining.TotalSeconds:0.0} s, fit {f.Total.TotalSeconds:0.0} s on {f.FittedRows:N0} rows (covariance {f.Covariance.TotalSeconds:0.0} s, neighbour graph of {f.NeighborRows:N0} rows {f.NeighborSearch.TotalSeconds:0.0} s, calibration {f.Calibration.TotalSeconds:0.0} s)")
            : string.Empty;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"  [t={at.TotalSeconds:0.0} s] pass ended after {pass.Elapsed.TotalSeconds:0.00} s: scored {pass.Scored:N0} ({pass.Total:N0} held) in {pass.Scoring.TotalSeconds:0.00} s, drift {pass.DriftMeasurement.TotalSeconds:0.00} s, refit {pass.Refit}{fit}"));
    }

    private static void Report(string what, TimeSpan elapsed) =>
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{elapsed.TotalSeconds,9:0.000} s  {what}"));
}
