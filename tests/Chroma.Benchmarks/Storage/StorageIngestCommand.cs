extern alias server;

using System.Diagnostics;
using System.Globalization;
using Chroma.Server.Storage;
using Chroma.Server.Storage.Postgres;
using Chroma.Server.Storage.Sqlite;
using Chroma.Testing.Postgres;
using Record = server::Chroma.Protocol.V1.Record;
using SetDescriptor = server::Chroma.Protocol.V1.EmbeddingSetDescriptor;

namespace Chroma.Benchmarks.Storage;

/// <summary>
/// <c>storage-ingest [records] [batch] [writers]</c>: durable ingest through the record store (the server's
/// group-commit path, without gRPC) on SQLite and on PostgreSQL (over 127.0.0.1; the server from
/// CHROMA_TEST_POSTGRES or a private one started with initdb/pg_ctl), side by side, 128-d records. Each store is warmed up
/// first (another set, then a wait for the JIT to go quiet); it prints wall records/s and CPU per record: this process
/// (writers and the store's writer loop, JIT apart) and, for PostgreSQL, the cluster's own processes.
/// </summary>
internal static class StorageIngestCommand
{
    public const string Usage = "[records=100000] [batch=1000] [writers=4]   (store ingest, 128-d: SQLite vs PostgreSQL side by side)";

    private const int Dimension = 128;

    public static async Task<int> RunAsync(string[] args)
    {
        var total = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 100_000;
        var batch = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 1_000;
        var writers = args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 4;
        var batches = Enumerable.Range(0, total / batch).Select(b => Make(batch, b)).ToList();
        Console.WriteLine($"storage-ingest: {batches.Count * batch:N0} records of {Dimension}-d, batches of {batch}, {writers} concurrent writers, load {File.ReadAllText("/proc/loadavg").Split(' ')[0]}");

        var directory = Path.Combine(Path.GetTempPath(), "chroma-bench-" + Guid.NewGuid().ToString("N"));
        using (var sqlite = SqliteStorage.Open(directory, TimeProvider.System, RecordChangeObservers.None))
        {
            await MeasureAsync("SQLite (WAL, synchronous=FULL)", sqlite.Records, batches, writers, postgresPort: null).ConfigureAwait(false);
        }

        Directory.Delete(directory, recursive: true);
        var (connectionString, reason) = await TestPostgres.CreateDatabaseAsync().ConfigureAwait(false);
        if (connectionString is null)
        {
            Console.WriteLine($"PostgreSQL: not measured ({reason})");
            return 1;
        }

        try
        {
            using var postgres = PostgresStorage.Open(connectionString, TimeProvider.System, RecordChangeObservers.None);
            var port = new Npgsql.NpgsqlConnectionStringBuilder(connectionString).Port;
            await MeasureAsync("PostgreSQL (loopback TCP, COPY)", postgres.Records, batches, writers, port).ConfigureAwait(false);
        }
        finally
        {
            TestPostgres.DropDatabase(connectionString);
            TestPostgres.Stop();
        }

        return 0;
    }

    private static async Task MeasureAsync(string name, IRecordStore store, List<PreparedRecord[]> batches, int writers, int? postgresPort)
    {
        // Warm-up on another set (the same code paths, compiled and tiered up), so the figures are a running store's.
        var warmup = Enumerable.Range(0, Math.Min(10, batches.Count)).Select(b => Make(batches[0].Length, 1_000_000 + b)).ToList();
        await IngestAsync(store, "warmup/1/fc", warmup, writers).ConfigureAwait(false);
        await ThreadCpu.WaitForJitQuietAsync(TimeSpan.FromSeconds(30)).ConfigureAwait(false);

        var postgresBefore = PostgresClusterCpu.Read(postgresPort);
        var cpuBefore = ThreadCpu.Read();
        var stopwatch = Stopwatch.StartNew();
        await IngestAsync(store, "bench/1/fc", batches, writers).ConfigureAwait(false);
        stopwatch.Stop();
        var cpu = ThreadCpu.Read() - cpuBefore;
        var postgresCpu = PostgresClusterCpu.Read(postgresPort) - postgresBefore;
        var records = batches.Sum(b => b.Length);
        var stored = store.CountRecords(store.FindSet("bench/1/fc")!, RecordSelection.All);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"  {name,-34} {records / stopwatch.Elapsed.TotalSeconds,10:N0} records/s  ({stopwatch.Elapsed.TotalSeconds:F2} s wall, {stored:N0} stored, load {File.ReadAllText("/proc/loadavg").Split(' ')[0]})"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"  {string.Empty,-34} CPU-s: {cpu.Rest.TotalSeconds:F2} this process (JIT {cpu.Jit.TotalSeconds:F2} apart){(postgresPort is null ? string.Empty : $", {postgresCpu.TotalSeconds:F2} PostgreSQL")}; " +
            $"per record: {cpu.Rest.TotalMicroseconds / records:F1} µs{(postgresPort is null ? string.Empty : $" + {postgresCpu.TotalMicroseconds / records:F1} µs PostgreSQL = {(cpu.Rest + postgresCpu).TotalMicroseconds / records:F1} µs")}"));
    }

    private static async Task IngestAsync(IRecordStore store, string setId, List<PreparedRecord[]> batches, int writers)
    {
        var set = new SetDescriptor { Model = setId.Split('/')[0], ModelVersion = "1", Layer = "fc", Dimension = Dimension };
        var next = -1;
        await Task.WhenAll(Enumerable.Range(0, writers).Select(_ => Task.Run(async () =>
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < batches.Count)
            {
                var outcome = await store.IngestAsync(setId, set, batches[i]).ConfigureAwait(false);
                if (outcome.Error is not null || outcome.Accepted != batches[i].Length)
                {
                    throw new InvalidOperationException($"batch {i}: {outcome}");
                }
            }
        }))).ConfigureAwait(false);
    }

    private static PreparedRecord[] Make(int count, int seed)
    {
        var random = new Random(seed);
        var batch = new PreparedRecord[count];
        for (var i = 0; i < count; i++)
        {
            var record = new Record { Id = Guid.CreateVersion7().ToString(), Dataset = "production", TimestampUnixMs = 1_700_000_000_000 };
            for (var d = 0; d < Dimension; d++)
            {
                record.Embedding.Add((float)random.NextDouble());
            }

            batch[i] = PreparedRecord.From(record, record.Id);
        }

        return batch;
    }
}
