using System.Diagnostics;
using System.Globalization;
using Chroma.Server.Hosting;
using Chroma.Server.Storage;
using Chroma.Server.Web;
using Chroma.Testing.Postgres;

namespace Chroma.Benchmarks.Storage;

/// <summary>
/// <c>ingest-replicas [records] [clients] [batch]</c>: end-to-end durable ingest of 128-d records through real clients
/// and real servers over loopback gRPC, side by side in one run: SQLite (one server), PostgreSQL through one replica,
/// and PostgreSQL through two replicas (clients spread over both). Servers run in this process; PostgreSQL's own CPU
/// time is read from /proc for its postmaster and backends.
/// </summary>
internal static class ReplicaIngestCommand
{
    public const string Usage = "[records=100000] [clients=4] [batch=1000]   (end-to-end ingest over gRPC, 128-d: SQLite vs PostgreSQL through 1 and 2 replicas)";

    private const int Dimension = 128;
    private const int ClientCapacity = 40_000;
    private const int Chunk = 4_000;

    // Below Chroma:Indexing:ExactSearchThreshold (5,000): the warm-up set never starts a graph build.
    private const int WarmupRecords = 4_000;
    private const int WarmupBatch = 100;

    public static async Task<int> RunAsync(string[] args)
    {
        var total = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 100_000;
        var clients = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 4;
        var batch = args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 1_000;
        Console.WriteLine($"ingest-replicas: {total:N0} records of {Dimension}-d, {clients} clients, batches of {batch}, {Environment.ProcessorCount} cores, load {LoadAverage()}");

        var directory = Path.Combine(Path.GetTempPath(), "chroma-bench-" + Guid.NewGuid().ToString("N"));
        await using (var sqlite = await StartAsync(directory, storage: null).ConfigureAwait(false))
        {
            await MeasureAsync("SQLite durable, 1 server", [sqlite.Endpoint], total, clients, batch, postgresPort: null).ConfigureAwait(false);
        }

        Directory.Delete(directory, recursive: true);
        foreach (var replicas in new[] { 1, 2 })
        {
            var (connectionString, reason) = await TestPostgres.CreateDatabaseAsync().ConfigureAwait(false);
            if (connectionString is null)
            {
                Console.WriteLine($"PostgreSQL: not measured ({reason})");
                return 1;
            }

            var servers = new List<ChromaServer>();
            try
            {
                var storage = new StorageOptions { Provider = StorageProvider.Postgres, ConnectionString = connectionString };
                for (var r = 0; r < replicas; r++)
                {
                    servers.Add(await StartAsync(Path.Combine(Path.GetTempPath(), "chroma-bench-" + Guid.NewGuid().ToString("N")), storage).ConfigureAwait(false));
                }

                var port = new Npgsql.NpgsqlConnectionStringBuilder(connectionString).Port;
                await MeasureAsync($"PostgreSQL, {replicas} replica{(replicas > 1 ? "s" : "")}", [.. servers.Select(s => s.Endpoint)], total, clients, batch, port).ConfigureAwait(false);
            }
            finally
            {
                foreach (var server in servers)
                {
                    await server.DisposeAsync().ConfigureAwait(false);
                }

                TestPostgres.DropDatabase(connectionString);
            }
        }

        TestPostgres.Stop();
        return 0;
    }

    private static Task<ChromaServer> StartAsync(string directory, StorageOptions? storage) =>
        ChromaServer.StartAsync(new ChromaServerOptions
        {
            Host = "127.0.0.1",
            Port = 0,
            DataDirectory = directory,
            Storage = storage ?? new StorageOptions(),
            Web = new WebOptions { Enabled = false },
        });

    private static async Task MeasureAsync(string name, Uri[] endpoints, int total, int clientCount, int batch, int? postgresPort)
    {
        // Warm-up below the graph threshold (no HNSW build starts), then wait for the JIT's tier-up to settle, so the
        // figures are the steady state of a running server, not the start-up compilation of this fresh process.
        await IngestAsync(endpoints, WarmupRecords, clientCount, WarmupBatch, new EmbeddingSetDescriptor("bench-warmup", "1", "fc", Dimension), () => { }).ConfigureAwait(false);
        await ThreadCpu.WaitForJitQuietAsync(TimeSpan.FromSeconds(60)).ConfigureAwait(false);

        var descriptor = new EmbeddingSetDescriptor("bench", "1", "fc", Dimension);
        var postgresBefore = PostgresClusterCpu.Read(postgresPort);
        var cpuBefore = ThreadCpu.Read();
        var stopwatch = Stopwatch.StartNew();
        var cpu = default(ThreadCpu);
        var postgresCpu = TimeSpan.Zero;
        var (records, exported, stored) = await IngestAsync(endpoints, total, clientCount, batch, descriptor, () =>
        {
            // Every record acknowledged: stop the clock before counting and closing the clients.
            stopwatch.Stop();
            cpu = ThreadCpu.Read() - cpuBefore;
            postgresCpu = PostgresClusterCpu.Read(postgresPort) - postgresBefore;
        }).ConfigureAwait(false);
        var perRecord = (cpu.Total + postgresCpu).TotalMicroseconds / records;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"  {name,-26} {records / stopwatch.Elapsed.TotalSeconds,9:N0} records/s  ({stopwatch.Elapsed.TotalSeconds:F2} s wall; {exported:N0} acknowledged, {stored:N0} stored; load {LoadAverage()})"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"  {string.Empty,-26} CPU-s: {cpu.Total.TotalSeconds:F1} clients+servers (ingest path {cpu.Rest.TotalSeconds:F1}, index threads {cpu.Index.TotalSeconds:F1}, JIT {cpu.Jit.TotalSeconds:F1})" +
            $"{(postgresPort is null ? string.Empty : $", {postgresCpu.TotalSeconds:F1} PostgreSQL")}; per record: {perRecord:F0} µs in all, " +
            $"{cpu.Rest.TotalMicroseconds / records:F0} µs ingest path{(postgresPort is null ? string.Empty : $" + {postgresCpu.TotalMicroseconds / records:F0} µs PostgreSQL")}"));
    }

    /// <summary>Sends <paramref name="total"/> records through <paramref name="clientCount"/> clients; returns sent, acknowledged and stored counts.</summary>
    private static async Task<(int Records, long Exported, long Stored)> IngestAsync(
        Uri[] endpoints, int total, int clientCount, int batch, EmbeddingSetDescriptor descriptor, Action acknowledged)
    {
        var vectors = Enumerable.Range(0, 256).Select(seed =>
        {
            var random = new Random(seed);
            return Enumerable.Range(0, Dimension).Select(_ => (float)random.NextDouble()).ToArray();
        }).ToArray();
        var clients = Enumerable.Range(0, clientCount).Select(c =>
        {
            var options = new ChromaClientOptions { QueueCapacity = ClientCapacity, MaxBatchSize = batch, FlushInterval = TimeSpan.FromMilliseconds(20) };
            for (var e = 0; e < endpoints.Length; e++)
            {
                options.Endpoints.Add(endpoints[(c + e) % endpoints.Length]);
            }

            return new ChromaClient(options);
        }).ToArray();
        var perClient = total / clientCount;
        await Task.WhenAll(clients.Select(client => Task.Run(async () =>
        {
            var set = client.GetEmbeddingSet(descriptor);
            for (var start = 0; start < perClient; start += Chunk)
            {
                await SenderFeed.WaitForRoomAsync(client, ClientCapacity, Chunk).ConfigureAwait(false);

                for (var i = start; i < Math.Min(start + Chunk, perClient); i++)
                {
                    set.Log("bench", vectors[i % vectors.Length]);
                }
            }

            await client.FlushAsync().ConfigureAwait(false);
        }))).ConfigureAwait(false);
        acknowledged();
        var stored = await clients[0].CountAsync(descriptor.Id).ConfigureAwait(false);
        var exported = clients.Sum(c => c.Statistics.Exported);
        foreach (var client in clients)
        {
            await client.DisposeAsync().ConfigureAwait(false);
        }

        return (perClient * clientCount, exported, stored);
    }

    private static string LoadAverage() => File.ReadAllText("/proc/loadavg").Split(' ')[0];
}
