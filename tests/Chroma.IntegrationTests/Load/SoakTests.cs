using System.Diagnostics;
using System.Globalization;
using Chroma;
using Chroma.IntegrationTests.Ingest;
using Chroma.IntegrationTests.Reliability;

namespace Chroma.IntegrationTests.Load;

/// <summary>
/// Concurrent clients log continuously to a standalone server process on loopback. CI runs it short
/// (8 clients x 20 s); <c>scripts/soak.sh</c> runs the 5-minute soak through the same test with
/// <c>CHROMA_SOAK_SECONDS</c> and <c>CHROMA_SOAK_CLIENTS</c>.
/// </summary>
[TestFixture]
[Category("soak")]
public sealed class SoakTests
{
    private const int Dimension = 128;

    [Test, CancelAfter(1_800_000)]
    public async Task Soak_ConcurrentClientsAgainstServerProcess_NoErrorsBoundedMemoryEveryRecordStored(CancellationToken cancellationToken)
    {
        // Arrange
        var seconds = EnvironmentInt("CHROMA_SOAK_SECONDS", 20);
        var clientCount = EnvironmentInt("CHROMA_SOAK_CLIENTS", 8);
        await using var server = new ServerProcess(
            Path.Combine(Path.GetTempPath(), "chroma-soak-" + Guid.NewGuid().ToString("N")), ServerProcess.FreePort(), deleteDataOnDispose: true);
        await server.StartAsync(cancellationToken);
        using var latency = new AckLatencyRecorder();
        var descriptor = new EmbeddingSetDescriptor("soak", "1", "fc", Dimension);
        var clients = Enumerable.Range(0, clientCount).Select(_ => new ChromaClient(new ChromaClientOptions
        {
            Endpoint = server.Endpoint,
            QueueCapacity = 20_000,
            FlushInterval = TimeSpan.FromMilliseconds(100),
            DrainTimeout = TimeSpan.FromSeconds(60),
        })).ToList();
        await using var querier = new ChromaClient(new ChromaClientOptions { Endpoint = server.Endpoint });
        var rssIdle = server.ResidentMiB;
        var serverCpuBefore = server.ProcessorTime;

        // Act: every client logs from its own task until the time is up, then flushes.
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(seconds));
        var stopwatch = Stopwatch.StartNew();
        var producers = clients.Select((client, p) => Task.Run(() => ProduceAsync(client, descriptor, p, stop.Token), cancellationToken)).ToList();
        var (rssSamples, queries) = await SampleWhileLoggingAsync(server, querier, descriptor.Id, stop.Token);
        var logged = await Task.WhenAll(producers);
        await Task.WhenAll(clients.Select(c => c.FlushAsync(cancellationToken)));
        stopwatch.Stop();
        var serverCpu = server.ProcessorTime - serverCpuBefore;
        var rssEnd = server.ResidentMiB;

        // Assert
        var statistics = clients.Select(c => c.Statistics).ToList();
        var exported = statistics.Sum(s => s.Exported);
        var errors = statistics.Sum(s => s.Failed + s.Dropped) + clients.Sum(c => c.CaptureErrorCount);
        var stored = await clients[0].CountAsync(descriptor.Id, cancellationToken: cancellationToken);
        var indexed = (await querier.ListSetsAsync(cancellationToken)).Single(s => s.SetId == descriptor.Id).Index?.IndexedCount ?? 0;
        foreach (var client in clients)
        {
            await client.DisposeAsync();
        }

        var rssStart = rssSamples.Count > 0 ? rssSamples[0] : rssIdle;
        await TestContext.Out.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
            $"soak: {clientCount} clients x {seconds} s, {exported:N0} records of {Dimension}-d in {stopwatch.Elapsed.TotalSeconds:F1} s = {exported / stopwatch.Elapsed.TotalSeconds:N0} records/s; " +
            $"server RSS idle {rssIdle:F0} MiB, start {rssStart:F0} MiB, max {rssSamples.DefaultIfEmpty(rssEnd).Max():F0} MiB, end {rssEnd:F0} MiB; " +
            $"server CPU {serverCpu.TotalSeconds:F1} s; ack latency p50 {latency.Percentile(50):F1} ms, p99 {latency.Percentile(99):F1} ms over {latency.Count:N0} acks; errors {errors}; " +
            $"indexed {indexed:N0} of {stored:N0} at the end (lag {stored - indexed:N0}); FindNearest during the run: {queries.Answered} answered, {queries.Failed} failed, slowest {queries.SlowestMs:F0} ms"));
        Assert.Multiple(() =>
        {
            Assert.That(errors, Is.Zero, "failed, dropped or capture errors");
            Assert.That(exported, Is.EqualTo(logged.Sum()), "every logged record exported");
            Assert.That(stored, Is.EqualTo(exported), "every exported record stored once");
            Assert.That(latency.Count, Is.GreaterThan(0), "ack latency histogram recorded");

            Assert.That(queries.Answered, Is.GreaterThan(0), "FindNearest answered while ingest ran");
            Assert.That(queries.Failed, Is.Zero, "FindNearest calls that failed while ingest ran");

            // Growth bound: apart from what its index holds, the server's memory must level off. The index holds every
            // indexed vector and its graph links (about 0.7 KiB per 128-d record; up to twice that while a graph is built
            // beside the exact index), so the budget is 1.5 KiB per indexed record on top of doubling the start.
            // Records stored but not yet indexed (the lag, large when ingest outruns indexing) cost nothing: the index
            // tails the store and reads them from there, so the bound does not grow with the lag.
            var budgetMiB = (rssStart * 2) + 256 + (indexed * 1.5 / 1024);
            Assert.That(rssEnd, Is.LessThan(budgetMiB), "server RSS at the end vs. start + 1.5 KiB per indexed record (MiB)");
        });
    }

    private static async Task<long> ProduceAsync(ChromaClient client, EmbeddingSetDescriptor descriptor, int producer, CancellationToken stop)
    {
        var set = client.GetEmbeddingSet(descriptor);
        var vector = new float[Dimension];
        long logged = 0;
        while (!stop.IsCancellationRequested)
        {
            // Stay below the client's queue capacity so nothing is dropped: the soak measures
            // delivery, not the drop policy.
            if (client.Statistics.Queued > 10_000)
            {
                await Task.Delay(1, CancellationToken.None);
                continue;
            }

            RecordCodec.Encode(vector, producer, (int)logged);
            if (set.LogTraining(vector))
            {
                logged++;
            }
        }

        return logged;
    }

    /// <summary>
    /// Server RSS every 2 s while the soak runs (the first sample is the "start" figure, after JIT warm-up), and a
    /// FindNearest after each sample (it waits up to the server's Chroma:Indexing:CatchUpTimeout for the index, then answers).
    /// </summary>
    private static async Task<(List<double> Samples, QueryTally Queries)> SampleWhileLoggingAsync(
        ServerProcess server, ChromaClient querier, string setId, CancellationToken stop)
    {
        var samples = new List<double>();
        var queries = new QueryTally();
        var probe = new float[Dimension];
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(2));
        try
        {
            while (await timer.WaitForNextTickAsync(stop))
            {
                samples.Add(server.ResidentMiB);
                var started = Stopwatch.GetTimestamp();
                try
                {
                    using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(20));
                    await querier.FindNearestAsync(setId, probe, 10, cancellationToken: deadline.Token);
                    queries.Answered++;
                }
                catch (ChromaException ex) when (ex.StatusCode == Grpc.Core.StatusCode.NotFound)
                {
                    // The set does not exist before the first commit.
                }
                catch (Exception ex) when (ex is ChromaException or OperationCanceledException)
                {
                    queries.Failed++;
                }

                queries.SlowestMs = Math.Max(queries.SlowestMs, Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            // The soak's time is up.
        }

        return (samples, queries);
    }

    private sealed class QueryTally
    {
        public int Answered { get; set; }

        public int Failed { get; set; }

        public double SlowestMs { get; set; }
    }

    private static int EnvironmentInt(string name, int fallback) =>
        int.TryParse(Environment.GetEnvironmentVariable(name), CultureInfo.InvariantCulture, out var value) && value > 0 ? value : fallback;
}
