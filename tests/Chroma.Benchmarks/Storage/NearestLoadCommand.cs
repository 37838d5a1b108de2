using System.Diagnostics;
using System.Globalization;
using Chroma.Benchmarks.Data;
using Chroma.Testing.Postgres;

namespace Chroma.Benchmarks.Storage;

/// <summary>
/// <c>nearest-load [--records N] [--dimension D] [--callers 1,2,4,...] [--seconds S] [--steady-rate R] [--postgres]</c>: FindNearest on one
/// <c>chroma-server</c> process (SQLite in its data directory, or PostgreSQL on a private cluster) under concurrent
/// callers. The set is filled through the real client and indexed first; then, for each number of callers, the
/// callers query for S seconds (<see cref="ConcurrentQueries"/>): queries/s, p50 / p99 / max latency, recall@10, the
/// server's CPU per query. Last, the same with one client logging new records meanwhile, at R records/s and then as fast
/// as they are acknowledged: every query first waits until the index holds what was acknowledged before it
/// (read-your-writes) unless ingest outran the index (the answer says so: <see cref="NearestNeighbors.IndexBehind"/>),
/// so this shows what ingest costs the readers and what the readers cost ingest. Data: clustered synthetic vectors
/// (make-data's generator, seed 7) with exact ground truth.
/// </summary>
internal static class NearestLoadCommand
{
    public const string Usage = "[--records 200000] [--dimension 128] [--callers 1,2,4,8,16,32,64] [--seconds 5] [--steady-rate 2000] [--postgres] [--during-build] [--burst N] [--delete N] [--server-log FILE]   (FindNearest under concurrent callers, alone and during ingest; --during-build: also while the first graph is built after the fill; --burst: N more records logged at once into the built graph, then one caller's queries until the graph holds them; --delete: the first N records deleted while one client logs at the steady rate, then one caller's queries until the graph is compacted; --server-log: the server's log, timestamped, to FILE)";

    private const int QueryCount = 1_000;
    private const int Batch = 1_000;
    private const int Chunk = 4_000;
    private const int SenderCapacity = 40_000;
    private const int Senders = 4;

    public static async Task<int> RunAsync(CommandArguments args)
    {
        var total = args.Int("records", 200_000);
        var dimension = args.Int("dimension", 128);
        var callers = args.IntList("callers", "1,2,4,8,16,32,64");
        var seconds = double.Parse(args.Optional("seconds") ?? "5", CultureInfo.InvariantCulture);
        var postgres = args.Flag("postgres");
        var steadyRate = args.Int("steady-rate", 2_000);
        var duringBuild = args.Flag("during-build");
        var burst = args.Int("burst", 0);
        var delete = args.Int("delete", 0);
        var serverLog = args.Optional("server-log");
        args.RejectUnknown();
        if (total < 10_000 || dimension < 1 || callers.Any(c => c < 1) || seconds <= 0 || burst < 0 || delete < 0 || delete >= total || (burst > 0 && delete > 0))
        {
            throw new ArgumentException("records must be at least 10,000 (above the exact-search threshold); dimension, callers and seconds above 0; burst 0 or more; delete 0 or more and below records; --burst and --delete in separate runs.");
        }

        Console.WriteLine($"nearest-load: {total:N0} records of {dimension}-d in one set on {(postgres ? "PostgreSQL" : "SQLite")}, callers {string.Join(',', callers)}, {seconds:F0} s each, {Environment.ProcessorCount} cores, load {Load()}");
        // The burst's records (after the queries) are drawn like the set's, so they are among the queries' neighbours.
        var data = MakeDataCommand.Clustered(total + QueryCount + burst, dimension, new Random(7));
        var queries = data[(total * dimension)..((total + QueryCount) * dimension)];
        var truth = ExactNeighbours.Compute(data, total, queries, QueryCount, dimension, ConcurrentQueries.K, "l2");
        string? connectionString = null;
        if (postgres)
        {
            (connectionString, var reason) = await TestPostgres.CreateDatabaseAsync().ConfigureAwait(false);
            if (connectionString is null)
            {
                Console.WriteLine($"PostgreSQL: not measured ({reason})");
                return 1;
            }
        }

        var root = Path.Combine(Path.GetTempPath(), "chroma-nearest-load-" + Guid.NewGuid().ToString("N")[..12]);
        try
        {
            var descriptor = new EmbeddingSetDescriptor("bench-load", "1", "fc", dimension);
            var server = ReplicaProcess.Start(connectionString, root, logFile: serverLog);
            await using (server.ConfigureAwait(false))
            {
                await using var client = new ChromaClient(new ChromaClientOptions { Endpoint = server.Endpoint, RequestTimeout = TimeSpan.FromMinutes(2) });
                await server.WaitAnsweringAsync(client).ConfigureAwait(false);
                var fill = Stopwatch.StartNew();
                await LogAsync(server.Endpoint, descriptor, data, 0, total, Senders, CancellationToken.None).ConfigureAwait(false);
                await WaitIndexedAsync(server, client, descriptor.Id, total, duringBuild ? (queries, dimension, truth, fill) : null, "while the first graph is built").ConfigureAwait(false);
                var (peak, resident) = server.Memory();
                Console.WriteLine(Line($"  filled          {total:N0} records logged and indexed in {fill.Elapsed.TotalSeconds:F1} s; server {resident:F0} MiB (peak {peak:F0}); load {Load()}"));

                await ConcurrentQueries.RunAsync(client, descriptor.Id, queries, QueryCount, dimension, truth, ConcurrentQueries.K, 1, TimeSpan.FromSeconds(2)).ConfigureAwait(false);
                Console.WriteLine("  queries alone (one client shared by the callers)");
                foreach (var count in callers)
                {
                    await MeasureAsync(server, client, descriptor.Id, queries, dimension, truth, count, seconds, null).ConfigureAwait(false);
                }

                if (burst > 0)
                {
                    await BurstAsync(server, client, descriptor, data, total, burst, queries).ConfigureAwait(false);
                }

                if (delete > 0)
                {
                    var stream = MakeDataCommand.Clustered(Math.Max(200_000, total / 2), dimension, new Random(13));
                    await RetentionRun.RunAsync(
                        server, client, descriptor, (data, total, delete), (queries, QueryCount), token => LogUntilAsync(server.Endpoint, descriptor, stream, steadyRate, token))
                        .ConfigureAwait(false);
                    return 0; // the set is another after it: the ingest phases are measured in runs without --delete
                }

                // New records beside the set's own, from another seed of the same generator: ingest at a steady rate the
                // index keeps up with, then as fast as acknowledged.
                var extra = MakeDataCommand.Clustered(Math.Max(200_000, total / 2), dimension, new Random(11));
                foreach (var rate in new[] { steadyRate, 0 })
                {
                    Console.WriteLine(rate > 0
                        ? $"  queries while one client logs {rate:N0} new records/s (recall not measured: the set grows)"
                        : "  queries while one client logs new records as fast as they are acknowledged");
                    foreach (var count in callers.Where(c => c is 1 or 4 or 16).DefaultIfEmpty(callers[0]).Distinct())
                    {
                        await MeasureAsync(server, client, descriptor.Id, queries, dimension, null, count, seconds, (descriptor, extra, rate)).ConfigureAwait(false);
                    }
                }

                // The take-over's hand-back of freed memory (event 415: resident before and after, the collection's pause).
                foreach (var line in server.LogLines("took over"))
                {
                    Console.WriteLine($"  server log: {line}");
                }

                Console.WriteLine($"  server peak resident memory (VmHWM) {server.Memory().PeakMiB:F0} MiB");
            }
        }
        finally
        {
            if (connectionString is not null)
            {
                TestPostgres.DropDatabase(connectionString);
                TestPostgres.Stop();
            }

            if (Directory.Exists(root))
            {
                Directory.Delete(root, recursive: true);
            }
        }

        return 0;
    }

    private static async Task MeasureAsync(
        ReplicaProcess server, ChromaClient client, string setId, float[] queries, int dimension, int[]? truth, int callers, double seconds,
        (EmbeddingSetDescriptor Descriptor, float[] Data, int Rate)? ingest)
    {
        var duration = TimeSpan.FromSeconds(seconds);
        var cpu = server.Cpu();
        using var stop = new CancellationTokenSource();
        var logged = 0L;
        var writer = ingest is { } i
            ? Task.Run(async () => logged = await LogUntilAsync(server.Endpoint, i.Descriptor, i.Data, i.Rate, stop.Token).ConfigureAwait(false))
            : Task.CompletedTask;
        var result = await ConcurrentQueries.RunAsync(client, setId, queries, QueryCount, dimension, truth, ConcurrentQueries.K, callers, duration).ConfigureAwait(false);
        await stop.CancelAsync().ConfigureAwait(false);
        await writer.ConfigureAwait(false);
        var cpuPerQuery = (server.Cpu() - cpu).TotalMilliseconds / Math.Max(1, result.Answered);
        Console.WriteLine(Line($"    {result}; server {cpuPerQuery:F2} CPU-ms per query{(ingest is null ? string.Empty : $", {logged / seconds:N0} records/s acknowledged meanwhile")}; load {Load()}"));
    }

    /// <summary>
    /// Logs <paramref name="burst"/> new records (the rows of <paramref name="data"/> after the queries: drawn as the set's
    /// records were, so many are the queries' nearest) as fast as they are acknowledged into the
    /// set's built graph, then queries with one caller, 2 s windows, until the graph holds them all: recall against the
    /// exact neighbours among every record, answers that said the index was behind, the index's counts. What a reader
    /// meets while the graph links a burst (the staged tail is searched by a scan meanwhile, up to its limit).
    /// </summary>
    private static async Task BurstAsync(ReplicaProcess server, ChromaClient client, EmbeddingSetDescriptor descriptor, float[] data, int total, int burst, float[] queries)
    {
        var dimension = descriptor.Dimension;
        var added = data.AsSpan((total + QueryCount) * dimension);
        var all = new float[(long)(total + burst) * dimension];
        data.AsSpan(0, total * dimension).CopyTo(all);
        added[..(burst * dimension)].CopyTo(all.AsSpan(total * dimension));
        var truth = ExactNeighbours.Compute(all, total + burst, queries, QueryCount, dimension, ConcurrentQueries.K, "l2");
        var logged = Stopwatch.StartNew();
        // Logged as rows total.. of the whole, so each record's input URI names its row in the truth.
        await LogAsync(server.Endpoint, descriptor, all, total, total + burst, Senders, CancellationToken.None).ConfigureAwait(false);
        Console.WriteLine(Line($"  burst           {burst:N0} more records logged in {logged.Elapsed.TotalSeconds:F1} s; load {Load()}"));
        await WaitIndexedAsync(server, client, descriptor.Id, total + burst, (queries, dimension, truth, logged), "while the graph links the burst").ConfigureAwait(false);
        Console.WriteLine(Line($"  linked          the graph holds all {total + burst:N0} records {logged.Elapsed.TotalSeconds:F0} s after the burst began"));
    }

    /// <summary>Logs rows [from, to) of <paramref name="data"/> through <paramref name="senders"/> clients and waits for every acknowledgement.</summary>
    private static async Task LogAsync(Uri endpoint, EmbeddingSetDescriptor descriptor, float[] data, int from, int to, int senders, CancellationToken cancellationToken)
    {
        var dimension = descriptor.Dimension;
        var perSender = (to - from + senders - 1) / senders;
        await Task.WhenAll(Enumerable.Range(0, senders).Select(s => Task.Run(async () =>
        {
            await using var sender = Sender(endpoint);
            var set = sender.GetEmbeddingSet(descriptor);
            var end = Math.Min(to, from + ((s + 1) * perSender));
            for (var start = from + (s * perSender); start < end; start += Chunk)
            {
                await SenderFeed.WaitForRoomAsync(sender, SenderCapacity, Chunk, cancellationToken).ConfigureAwait(false);
                SenderFeed.LogRows(set, data, dimension, start, Math.Min(start + Chunk, end));
            }

            await sender.FlushAsync(cancellationToken).ConfigureAwait(false);
            if (sender.Statistics.Dropped > 0)
            {
                throw new InvalidOperationException($"{sender.Statistics.Dropped} records dropped while filling the set");
            }
        }))).ConfigureAwait(false);
    }

    /// <summary>
    /// One client logs rows of <paramref name="data"/> (cycling) until cancelled, <paramref name="rate"/> per second (0:
    /// as fast as they are acknowledged); returns how many were acknowledged.
    /// </summary>
    private static async Task<long> LogUntilAsync(Uri endpoint, EmbeddingSetDescriptor descriptor, float[] data, int rate, CancellationToken cancellationToken)
    {
        var dimension = descriptor.Dimension;
        var rows = data.Length / dimension;
        await using var sender = Sender(endpoint);
        var set = sender.GetEmbeddingSet(descriptor);
        var exportedBefore = sender.Statistics.Exported;
        var row = 0;
        var began = Stopwatch.StartNew();
        var sent = 0L;
        while (!cancellationToken.IsCancellationRequested)
        {
            await SenderFeed.WaitForRoomAsync(sender, SenderCapacity, Chunk, CancellationToken.None).ConfigureAwait(false);

            // At a steady rate: what is due by now, in steps of 10 ms.
            var due = rate > 0 ? (long)(began.Elapsed.TotalSeconds * rate) - sent : Chunk;
            if (due <= 0)
            {
                await Task.Delay(10, CancellationToken.None).ConfigureAwait(false);
                continue;
            }

            for (var i = 0; i < Math.Min(due, Chunk); i++, row = (row + 1) % rows, sent++)
            {
                set.LogProduction(data.AsSpan(row * dimension, dimension), inputUri: "extra-" + row.ToString(CultureInfo.InvariantCulture));
            }
        }

        return sender.Statistics.Exported - exportedBefore;
    }

    private static ChromaClient Sender(Uri endpoint) => new(new ChromaClientOptions
    {
        Endpoint = endpoint,
        QueueCapacity = SenderCapacity,
        MaxBatchSize = Batch,
        FlushInterval = TimeSpan.FromMilliseconds(20),
    });

    /// <summary>
    /// Waits until the graph holds all <paramref name="total"/> records. With <paramref name="probe"/>, one caller queries
    /// meanwhile, two seconds at a time, and each window is printed with the time since the fill began and the index's
    /// state: what a user who queries right after a bulk load gets (recall against the whole set, answers with the
    /// index behind, latency).
    /// </summary>
    private static async Task WaitIndexedAsync(
        ReplicaProcess server, ChromaClient client, string setId, int total, (float[] Queries, int Dimension, int[] Truth, Stopwatch SinceFill)? probe, string phase)
    {
        if (probe is not null)
        {
            Console.WriteLine($"  queries {phase} (one caller, 2 s windows; time since the records began to be logged)");
        }

        var waited = Stopwatch.StartNew();
        var nextProgress = TimeSpan.FromSeconds(30);
        while (true)
        {
            server.ThrowIfExited();
            var index = (await client.ListSetsAsync().ConfigureAwait(false)).FirstOrDefault(s => s.SetId == setId)?.Index;
            // The graph itself holds them all (not only the staged tail that searches scan until they are linked).
            if (index is { Kind: EmbeddingSetIndexKind.Hnsw } && index.GraphCount >= total)
            {
                return;
            }

            if (probe is { } q)
            {
                var window = await ConcurrentQueries.RunAsync(
                    client, setId, q.Queries, QueryCount, q.Dimension, q.Truth, ConcurrentQueries.K, 1, TimeSpan.FromSeconds(2)).ConfigureAwait(false);
                Console.WriteLine(Line($"    {q.SinceFill.Elapsed.TotalSeconds,6:F0} s  index {index?.Kind.ToString() ?? "not loaded"}, {index?.IndexedCount ?? 0:N0} indexed, {index?.GraphCount ?? 0:N0} in the graph: {window}; load {Load()}"));
                continue;
            }

            if (waited.Elapsed > TimeSpan.FromHours(1))
            {
                throw new TimeoutException($"the index did not hold all {total:N0} records within an hour");
            }

            if (waited.Elapsed >= nextProgress)
            {
                nextProgress += TimeSpan.FromSeconds(30);
                Console.WriteLine(Line($"    ... index {index?.Kind.ToString() ?? "not loaded"}, {index?.IndexedCount ?? 0:N0} indexed, {index?.GraphCount ?? 0:N0} in the graph after {waited.Elapsed.TotalSeconds:F0} s; load {Load()}"));
            }

            await Task.Delay(250).ConfigureAwait(false);
        }
    }

    internal static string Load() => File.ReadAllText("/proc/loadavg").Split(' ')[0];

    internal static string Line(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
