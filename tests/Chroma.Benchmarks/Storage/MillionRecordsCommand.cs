using System.Diagnostics;
using System.Globalization;
using Chroma.Benchmarks.Data;
using Chroma.Testing.Postgres;

namespace Chroma.Benchmarks.Storage;

/// <summary>
/// <c>pg-million [records] [dimension] [queries] [clients]</c>: one set of a million records on PostgreSQL, served by
/// replicas that run as their own <c>chroma-server</c> processes. Measures, one line each: ingest of every record
/// through one replica over loopback gRPC with the real client (records/s, wall, CPU of clients, replica and
/// PostgreSQL); how long that replica's index takes to hold them all; its peak and steady resident memory;
/// FindNearest p50/p99 (sequential queries) and recall@10 against the exact neighbours; a new replica started with a
/// copy of the first one's saved index (the snapshot): time until its index holds every record; and a new replica
/// started from scratch (empty data directory): the same. Data: clustered synthetic vectors (make-data's generator,
/// seed 7) with exact ground truth.
/// </summary>
internal static class MillionRecordsCommand
{
    public const string Usage = "[records=1000000] [dimension=128] [queries=1000] [clients=4] [--gcdump DIR] [--replica-logs DIR] [--replica-env NAME=VALUE]... [--no-scratch]   (one set on PostgreSQL, replicas as chroma-server processes: ingest, memory, new replica ready, FindNearest latency/recall)";

    private const int Batch = 1_000;
    private const int ClientCapacity = 40_000;
    private const int Chunk = 4_000;
    private const double MemoryGoalMiB = 1.2e9 / (1024 * 1024);
    private static readonly TimeSpan ReadyTimeout = TimeSpan.FromHours(2);
    private static readonly TimeSpan Progress = TimeSpan.FromSeconds(30);

    public static async Task<int> RunAsync(string[] args)
    {
        // --gcdump DIR: a heap dump of every replica by type after its queries (ReplicaHeapDump).
        // --replica-logs DIR: every replica's log (Chroma at Information) in DIR/<replica>.log, stamped with its age.
        // --replica-env NAME=VALUE (repeatable): set in every replica's environment only, not in this process (which
        // is the client), e.g. a runtime setting such as DOTNET_gcConcurrent=0. --no-scratch: no replica from scratch.
        var options = new RunOptions(TakeDirectoryOption(ref args, "--gcdump"), TakeDirectoryOption(ref args, "--replica-logs"), TakeEnvironment(ref args), !TakeFlag(ref args, "--no-scratch"));
        if (options.LogDirectory is not null)
        {
            Directory.CreateDirectory(options.LogDirectory);
        }

        var total = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 1_000_000;
        var dimension = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 128;
        var queryCount = args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 1_000;
        var clients = args.Length > 3 ? int.Parse(args[3], CultureInfo.InvariantCulture) : 4;
        if (total < 10_000 || dimension < 1 || queryCount < 1 || clients < 1)
        {
            throw new ArgumentException("records must be at least 10,000 (above the exact-search threshold); dimension, queries and clients at least 1.");
        }

        Console.WriteLine($"pg-million: {total:N0} records of {dimension}-d in one set, {queryCount:N0} queries, {clients} clients, batches of {Batch}, {Environment.ProcessorCount} cores, load {Load()}");
        var stopwatch = Stopwatch.StartNew();
        var data = MakeDataCommand.Clustered(total + queryCount, dimension, new Random(7));
        var queries = data[(total * dimension)..];
        var truth = ExactNeighbours.Compute(data, total, queries, queryCount, dimension, NearestLatency.K, "l2");
        Console.WriteLine(Line($"  data            clustered synthetic (make-data's generator, seed 7) and exact top-{NearestLatency.K} by scan in {stopwatch.Elapsed.TotalSeconds:F1} s"));

        var (connectionString, reason) = await TestPostgres.CreateDatabaseAsync().ConfigureAwait(false);
        if (connectionString is null)
        {
            Console.WriteLine($"PostgreSQL: not measured ({reason})");
            return 1;
        }

        var given = Environment.GetEnvironmentVariable(TestPostgres.ServerVariable) is { Length: > 0 };
        Console.WriteLine($"  PostgreSQL      port={new Npgsql.NpgsqlConnectionStringBuilder(connectionString).Port} ({(given ? TestPostgres.ServerVariable : "a private cluster")})");
        var root = Path.Combine(Path.GetTempPath(), "chroma-million-" + Guid.NewGuid().ToString("N")[..12]);
        try
        {
            var run = new Run(connectionString, root, new EmbeddingSetDescriptor("bench-million", "1", "fc", dimension), total, data, queries, queryCount, truth, options);
            await run.ExecuteAsync(clients).ConfigureAwait(false);
        }
        finally
        {
            TestPostgres.DropDatabase(connectionString);
            TestPostgres.Stop();
            if (Directory.Exists(root))
            {
                Directory.Delete(root, recursive: true);
            }
        }

        return 0;
    }

    private static string? TakeDirectoryOption(ref string[] args, string name)
    {
        var at = Array.IndexOf(args, name);
        if (at < 0)
        {
            return null;
        }

        var directory = at + 1 < args.Length ? Path.GetFullPath(args[at + 1]) : throw new ArgumentException($"{name} needs a directory.");
        args = [.. args[..at], .. args[(at + 2)..]];
        return directory;
    }

    private static Dictionary<string, string> TakeEnvironment(ref string[] args)
    {
        var environment = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var at = Array.IndexOf(args, "--replica-env"); at >= 0; at = Array.IndexOf(args, "--replica-env"))
        {
            var pair = at + 1 < args.Length ? args[at + 1] : string.Empty;
            var equals = pair.IndexOf('=', StringComparison.Ordinal);
            if (equals <= 0)
            {
                throw new ArgumentException($"--replica-env needs NAME=VALUE, got '{pair}'.");
            }

            environment[pair[..equals]] = pair[(equals + 1)..];
            args = [.. args[..at], .. args[(at + 2)..]];
        }

        return environment;
    }

    private static bool TakeFlag(ref string[] args, string name)
    {
        var at = Array.IndexOf(args, name);
        if (at < 0)
        {
            return false;
        }

        args = [.. args[..at], .. args[(at + 1)..]];
        return true;
    }

    private static string Load() => File.ReadAllText("/proc/loadavg").Split(' ')[0];

    private static string Line(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);

    /// <summary>One run: the replicas, in order, on one database.</summary>
    private sealed class Run(
        string connectionString, string root, EmbeddingSetDescriptor descriptor, int total, float[] data, float[] queries, int queryCount, int[] truth, RunOptions options)
    {
        private int Dimension => descriptor.Dimension;

        public async Task ExecuteAsync(int clients)
        {
            // The first replica: ingest, its index catching up, memory, queries; then it stops (saving its index).
            var first = ReplicaProcess.Start(connectionString, Path.Combine(root, "first"), options.ReplicaEnvironment, LogFile("first"));
            await using (first.ConfigureAwait(false))
            {
                await using var client = QueryClient(first);
                await first.WaitAnsweringAsync(client).ConfigureAwait(false);
                var (began, ended) = await IngestAsync(first, clients).ConfigureAwait(false);
                var caughtUp = await WaitIndexedAsync(first, client, "first replica").ConfigureAwait(false);
                Console.WriteLine(Line(
                    $"  index, first    holds all {total:N0} {(caughtUp - ended).TotalSeconds:F1} s after the last ack ({(caughtUp - began).TotalSeconds:F1} s after the ingest began; replica {first.Cpu().TotalSeconds:F0} CPU-s since its start); load {Load()}"));
                await QueryAsync(first, client, "first").ConfigureAwait(false);
                await SnapshotAsync(first).ConfigureAwait(false);
            }

            // A new replica given a copy of the first one's saved index files.
            await StartNewAsync("snapshot", "index files of the first replica copied in").ConfigureAwait(false);

            // A new replica with an empty data directory: the whole index from the store.
            if (options.Scratch)
            {
                await StartNewAsync("scratch", "empty data directory").ConfigureAwait(false);
            }
        }

        private string? LogFile(string replica) => options.LogDirectory is null ? null : Path.Combine(options.LogDirectory, replica + ".log");

        private ChromaClient QueryClient(ReplicaProcess replica) =>
            new(new ChromaClientOptions { Endpoint = replica.Endpoint, RequestTimeout = TimeSpan.FromMinutes(2) });

        /// <summary>Sends every record through <paramref name="clientCount"/> clients; returns the replica's age when it began and when all were acknowledged.</summary>
        private async Task<(TimeSpan Began, TimeSpan Ended)> IngestAsync(ReplicaProcess replica, int clientCount)
        {
            var cpuBefore = Process.GetCurrentProcess().TotalProcessorTime;
            var replicaBefore = replica.Cpu();
            var postgresPort = new Npgsql.NpgsqlConnectionStringBuilder(connectionString).Port;
            var postgresBefore = PostgresClusterCpu.Read(postgresPort);
            var began = replica.Age;
            var stopwatch = Stopwatch.StartNew();
            var senders = Enumerable.Range(0, clientCount).Select(_ => new ChromaClient(new ChromaClientOptions
            {
                Endpoint = replica.Endpoint,
                QueueCapacity = ClientCapacity,
                MaxBatchSize = Batch,
                FlushInterval = TimeSpan.FromMilliseconds(20),
            })).ToArray();
            var perClient = (total + clientCount - 1) / clientCount;
            await Task.WhenAll(senders.Select((sender, c) => Task.Run(async () =>
            {
                var set = sender.GetEmbeddingSet(descriptor);
                var end = Math.Min(total, (c + 1) * perClient);
                for (var start = c * perClient; start < end; start += Chunk)
                {
                    await SenderFeed.WaitForRoomAsync(sender, ClientCapacity, Chunk).ConfigureAwait(false);
                    SenderFeed.LogRows(set, data, Dimension, start, Math.Min(start + Chunk, end));
                }

                await sender.FlushAsync().ConfigureAwait(false);
            }))).ConfigureAwait(false);
            stopwatch.Stop();
            var ended = replica.Age;
            var clientCpu = Process.GetCurrentProcess().TotalProcessorTime - cpuBefore;
            var replicaCpu = replica.Cpu() - replicaBefore;
            var postgresCpu = PostgresClusterCpu.Read(postgresPort) - postgresBefore;
            var (peak, resident) = replica.Memory();
            var exported = senders.Sum(s => s.Statistics.Exported);
            var dropped = senders.Sum(s => s.Statistics.Dropped);
            foreach (var sender in senders)
            {
                await sender.DisposeAsync().ConfigureAwait(false);
            }

            await using var counter = QueryClient(replica);
            var stored = await counter.CountAsync(descriptor.Id).ConfigureAwait(false);
            Console.WriteLine(Line(
                $"  ingest          {total / stopwatch.Elapsed.TotalSeconds,9:N0} records/s  ({total:N0} in {stopwatch.Elapsed.TotalSeconds:F1} s wall through 1 replica; {exported:N0} acknowledged, {dropped:N0} dropped, {stored:N0} stored; load {Load()})"));
            Console.WriteLine(Line(
                $"                  CPU-s: {clientCpu.TotalSeconds:F1} clients (this process), {replicaCpu.TotalSeconds:F1} replica (ingest and indexing meanwhile), {postgresCpu.TotalSeconds:F1} PostgreSQL; replica memory at the last ack {resident:F0} MiB, peak {peak:F0} MiB"));
            return (began, ended);
        }

        /// <summary>Waits until the replica's index of the set is an HNSW graph holding every record; returns the replica's age then.</summary>
        private async Task<TimeSpan> WaitIndexedAsync(ReplicaProcess replica, ChromaClient client, string name)
        {
            var nextProgress = replica.Age + Progress;
            while (true)
            {
                replica.ThrowIfExited();
                if (replica.Age > ReadyTimeout)
                {
                    throw new TimeoutException($"the {name}'s index did not hold all {total:N0} records within {ReadyTimeout}");
                }

                var index = (await client.ListSetsAsync().ConfigureAwait(false)).FirstOrDefault(s => s.SetId == descriptor.Id)?.Index;
                // The graph itself holds them all, not only the staged tail that searches scan until they are linked
                // (as before staging, so the times compare with the earlier runs).
                if (index is { Kind: EmbeddingSetIndexKind.Hnsw } && index.GraphCount >= total)
                {
                    return replica.Age;
                }

                if (replica.Age >= nextProgress)
                {
                    nextProgress += Progress;
                    Console.WriteLine(Line(
                        $"    ... {name} at {replica.Age.TotalSeconds:F0} s: index {index?.Kind.ToString() ?? "not loaded"}, {index?.IndexedCount ?? 0:N0} indexed, {index?.GraphCount ?? 0:N0} in the graph; {replica.Cpu().TotalSeconds:F0} CPU-s, {replica.Memory().ResidentMiB:F0} MiB; load {Load()}"));
                }

                await Task.Delay(250).ConfigureAwait(false);
            }
        }

        private async Task QueryAsync(ReplicaProcess replica, ChromaClient client, string name)
        {
            replica.Mark($"FindNearest: {queryCount} queries begin (50 warm-up calls first)");
            var began = replica.Age;
            var result = await NearestLatency.MeasureAsync(client, descriptor.Id, queries, queryCount, Dimension, truth, NearestLatency.K).ConfigureAwait(false);
            replica.Mark($"FindNearest: queries end: {result}; median of each {NearestLatency.Block} in order (ms): {string.Join(' ', result.BlockMedians.Select(m => m.ToString("F2", CultureInfo.InvariantCulture)))}");
            replica.Mark($"FindNearest: the {NearestLatency.Slowest} slowest (replica age at the call: ms): {string.Join("; ", result.SlowestQueries.Select(s => string.Create(CultureInfo.InvariantCulture, $"{(began.TotalSeconds + s.StartedSeconds):F3} s: {s.Milliseconds:F1}")))}");
            var breadth = (await client.ListSetsAsync().ConfigureAwait(false)).First(s => s.SetId == descriptor.Id).Index;
            var (peak, resident) = replica.Memory();
            Console.WriteLine(Line(
                $"  FindNearest, {name,-8} {result}  ({queryCount:N0} sequential queries, k {NearestLatency.K}, default breadth {breadth?.SearchBreadth}, estimated recall {breadth?.EstimatedRecallAt10:F3}; goals p50 <= 5, p99 <= 20 ms, recall >= 0.95; load {Load()})"));
            Console.WriteLine(Line(
                $"  memory, {name,-8} peak (VmHWM) {peak:F0} MiB, steady (VmRSS, index holds all, after the queries) {resident:F0} MiB = {resident * 1024 * 1024 / 1e9:F2} GB  (goal <= 1.2 GB = {MemoryGoalMiB:F0} MiB: {(resident <= MemoryGoalMiB ? "met" : "NOT met")}{(peak > MemoryGoalMiB ? ", peak above it" : string.Empty)})"));
            if (options.DumpDirectory is not null)
            {
                await ReplicaHeapDump.WriteAsync(replica, name, options.DumpDirectory).ConfigureAwait(false);
            }
        }

        /// <summary>Waits for the first replica to save its index holding every record, stops it, and copies the files.</summary>
        private async Task SnapshotAsync(ReplicaProcess first)
        {
            var saved = $"{total} vectors";
            var waited = Stopwatch.StartNew();
            while (!first.LogLines("Saved the index of").Any(l => l.Contains(saved, StringComparison.Ordinal)))
            {
                first.ThrowIfExited();
                if (waited.Elapsed > TimeSpan.FromMinutes(5))
                {
                    throw new TimeoutException("the first replica did not save its index holding every record within 5 minutes");
                }

                await Task.Delay(500).ConfigureAwait(false);
            }

            var savedLine = first.LogLines("Saved the index of").Last();
            var stopped = await first.TerminateAsync(TimeSpan.FromMinutes(2)).ConfigureAwait(false);
            var source = Path.Combine(first.DataDirectory, "indexes");
            var target = Path.Combine(root, "snapshot", "indexes");
            Directory.CreateDirectory(target);
            var bytes = 0L;
            foreach (var file in Directory.GetFiles(source))
            {
                File.Copy(file, Path.Combine(target, Path.GetFileName(file)));
                bytes += new FileInfo(file).Length;
            }

            Console.WriteLine(Line(
                $"  snapshot        {bytes / (1024.0 * 1024):F0} MiB of index files copied (saved by the running replica {waited.Elapsed.TotalSeconds:F0} s after the queries: {savedLine[(savedLine.IndexOf("Saved", StringComparison.Ordinal) + 6)..]}); first replica stopped by SIGTERM in {stopped.TotalSeconds:F1} s"));
        }

        private async Task StartNewAsync(string name, string how)
        {
            var replica = ReplicaProcess.Start(connectionString, Path.Combine(root, name), options.ReplicaEnvironment, LogFile(name));
            await using (replica.ConfigureAwait(false))
            {
                await using var client = QueryClient(replica);
                var answering = await replica.WaitAnsweringAsync(client).ConfigureAwait(false);
                var ready = await WaitIndexedAsync(replica, client, $"{name} replica").ConfigureAwait(false);
                var cpu = replica.Cpu();
                var loaded = replica.LogLines("ready: from file").LastOrDefault() ?? "(no load line)";
                Console.WriteLine(Line(
                    $"  ready, {name,-8} {ready.TotalSeconds,7:F1} s from process start to an index holding all {total:N0} ({how}; answering after {answering.TotalSeconds:F1} s; {cpu.TotalSeconds:F0} CPU-s; {(name == "snapshot" ? "goal <= 60 s; " : string.Empty)}load {Load()})"));
                Console.WriteLine($"                  {loaded[(loaded.IndexOf("Index of", StringComparison.Ordinal) is var at and >= 0 ? at : 0)..]}");
                await QueryAsync(replica, client, name).ConfigureAwait(false);

                // The collection after the take-over is logged just after the index reads as whole, so it is looked
                // for once the queries are done.
                foreach (var returned in replica.LogLines("took over: its exact index"))
                {
                    Console.WriteLine($"  returned, {name,-8} {returned[(returned.IndexOf("The HNSW build", StringComparison.Ordinal) is var from and >= 0 ? from : 0)..]}");
                }

                await replica.TerminateAsync(TimeSpan.FromMinutes(2)).ConfigureAwait(false);
            }
        }
    }

    /// <summary>The command's options beside its numbers.</summary>
    private sealed record RunOptions(string? DumpDirectory, string? LogDirectory, IReadOnlyDictionary<string, string> ReplicaEnvironment, bool Scratch);
}
