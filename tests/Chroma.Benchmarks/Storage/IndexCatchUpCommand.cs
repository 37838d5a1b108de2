extern alias server;

using System.Diagnostics;
using System.Globalization;
using Chroma.Server.Indexing;
using Chroma.Server.Storage;
using Chroma.Server.Storage.Sqlite;
using Microsoft.Extensions.Logging.Abstractions;
using Record = server::Chroma.Protocol.V1.Record;
using SetDescriptor = server::Chroma.Protocol.V1.EmbeddingSetDescriptor;

namespace Chroma.Benchmarks.Storage;

/// <summary>
/// <c>index-catchup [records] [dimension] [threads]</c>: how fast an index that tails the store catches up. A backlog of
/// records is committed to a SQLite store while nothing indexes it; then <see cref="EmbeddingSetIndexes"/> reads it
/// page by page after its sequence and applies it, once into an HNSW graph and once into an exact index.
/// Reports records/s, process CPU seconds and the managed heap before and after (a backlog costs no memory).
/// </summary>
internal static class IndexCatchUpCommand
{
    public const string Usage = "[records=50000] [dimension=128] [threads=0 (cores-1)]   (index catch-up from the store, records/s)";

    private const string SetId = "bench/1/fc";

    public static async Task<int> RunAsync(string[] args)
    {
        var total = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 50_000;
        var dimension = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 128;
        var threads = args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 0;
        Console.WriteLine($"index-catchup: {total:N0} records of {dimension}-d, load {File.ReadAllText("/proc/loadavg").Split(' ')[0]}");
        foreach (var (name, threshold) in new[] { ("HNSW graph", 0), ("exact index", int.MaxValue) })
        {
            await MeasureAsync(name, threshold, total, dimension, threads).ConfigureAwait(false);
        }

        return 0;
    }

    private static async Task MeasureAsync(string name, int threshold, int total, int dimension, int threads)
    {
        var directory = Path.Combine(Path.GetTempPath(), "chroma-catchup-" + Guid.NewGuid().ToString("N"));
        try
        {
            using var storage = SqliteStorage.Open(directory, TimeProvider.System, RecordChangeObservers.None);
            var store = storage.Records;
            var descriptor = new SetDescriptor { Model = "bench", ModelVersion = "1", Layer = "fc", Dimension = dimension };
            await store.IngestAsync(SetId, descriptor, Make(1, dimension, -1)).ConfigureAwait(false);
            var set = store.FindSet(SetId)!;
            var options = new IndexingOptions { ExactSearchThreshold = threshold, BuildThreads = threads };
            using var indexes = new EmbeddingSetIndexes(store, options, Path.Combine(directory, "indexes"), TimeProvider.System, NullLogger<EmbeddingSetIndexes>.Instance);
            var index = await indexes.LoadAsync(set).ConfigureAwait(false);

            // The backlog: committed while nothing told the index (as ingest that outran it, or another server's writes).
            for (var b = 0; b < total / 1_000; b++)
            {
                await store.IngestAsync(SetId, descriptor, Make(1_000, dimension, b)).ConfigureAwait(false);
            }

            GC.Collect();
            var heapBefore = GC.GetTotalMemory(forceFullCollection: true) / (1024.0 * 1024);
            var cpu = Process.GetCurrentProcess().TotalProcessorTime;
            var stopwatch = Stopwatch.StartNew();
            indexes.Poll();
            await indexes.ApplyQueuedAsync().ConfigureAwait(false);
            stopwatch.Stop();
            var cpuUsed = Process.GetCurrentProcess().TotalProcessorTime - cpu;
            var heapAfter = GC.GetTotalMemory(forceFullCollection: true) / (1024.0 * 1024);
            var caughtUp = indexes.IndexedThroughSequence(set) == store.ReadLastSequence(set);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"  {name,-12} {(index.Count - 1) / stopwatch.Elapsed.TotalSeconds,10:N0} records/s  ({index.Count - 1:N0} in {stopwatch.Elapsed.TotalSeconds:F2} s wall, " +
                $"{cpuUsed.TotalSeconds:F2} CPU-s; managed heap {heapBefore:F0} MiB with the backlog in the store, {heapAfter:F0} MiB indexed; caught up {caughtUp})"));
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    private static PreparedRecord[] Make(int count, int dimension, int seed)
    {
        var random = new Random(seed);
        var batch = new PreparedRecord[count];
        for (var i = 0; i < count; i++)
        {
            var record = new Record { Id = Guid.CreateVersion7().ToString(), Dataset = "production", TimestampUnixMs = 1_700_000_000_000 };
            for (var d = 0; d < dimension; d++)
            {
                record.Embedding.Add((float)random.NextDouble());
            }

            batch[i] = PreparedRecord.From(record, record.Id);
        }

        return batch;
    }
}
