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
/// CHROMA_TEST_POSTGRES or a private one started with initdb/pg_ctl), side by side, 128-d records.
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
            await MeasureAsync("SQLite (WAL, synchronous=FULL)", sqlite.Records, batches, writers).ConfigureAwait(false);
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
            await MeasureAsync("PostgreSQL (loopback TCP, COPY)", postgres.Records, batches, writers).ConfigureAwait(false);
        }
        finally
        {
            TestPostgres.DropDatabase(connectionString);
            TestPostgres.Stop();
        }

        return 0;
    }

    private static async Task MeasureAsync(string name, IRecordStore store, List<PreparedRecord[]> batches, int writers)
    {
        var set = new SetDescriptor { Model = "bench", ModelVersion = "1", Layer = "fc", Dimension = Dimension };
        var next = -1;
        var cpu = Process.GetCurrentProcess().TotalProcessorTime;
        var stopwatch = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, writers).Select(_ => Task.Run(async () =>
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < batches.Count)
            {
                var outcome = await store.IngestAsync("bench/1/fc", set, batches[i]).ConfigureAwait(false);
                if (outcome.Error is not null || outcome.Accepted != batches[i].Length)
                {
                    throw new InvalidOperationException($"batch {i}: {outcome}");
                }
            }
        }))).ConfigureAwait(false);
        stopwatch.Stop();
        var cpuUsed = Process.GetCurrentProcess().TotalProcessorTime - cpu;
        var records = batches.Sum(b => b.Length);
        var stored = store.CountRecords(store.FindSet("bench/1/fc")!, RecordSelection.All);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"  {name,-34} {records / stopwatch.Elapsed.TotalSeconds,10:N0} records/s  ({stopwatch.Elapsed.TotalSeconds:F2} s wall, {cpuUsed.TotalSeconds:F2} CPU-s in this process, {stored:N0} stored)"));
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
