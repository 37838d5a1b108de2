extern alias server;

using System.Diagnostics;
using System.Globalization;
using Chroma.Server.Storage;
using Chroma.Server.Storage.Sqlite;
using Record = server::Chroma.Protocol.V1.Record;
using SetDescriptor = server::Chroma.Protocol.V1.EmbeddingSetDescriptor;

namespace Chroma.Benchmarks.Storage;

/// <summary>
/// <c>list-sets [--records 1000000] [--dimension 16] [--calls 20]</c>: what <c>ListSets</c> costs the store on a large
/// set (the web app's event stream asks for it four times a second per open page). One SQLite store with one set of
/// <c>records</c> (a tenth "training"); then <c>calls</c> calls each, timed (wall and process CPU, median and max):
/// the first after a restart (every live record counted), with nothing changed since the last, and each after a batch
/// of 1,000 new records and 100 deletions.
/// </summary>
internal static class ListSetsCommand
{
    public const string Usage = "[--records 1000000] [--dimension 16] [--calls 20]   (ListSets on a large SQLite set: first, unchanged, after changes)";

    private const string SetId = "bench/1/list";

    public static async Task<int> RunAsync(CommandArguments args)
    {
        var total = args.Int("records", 1_000_000);
        var dimension = args.Int("dimension", 16);
        var calls = args.Int("calls", 20);
        args.RejectUnknown();
        var directory = Path.Combine(Path.GetTempPath(), "chroma-list-sets-" + Guid.NewGuid().ToString("N"));
        try
        {
            var descriptor = new SetDescriptor { Model = "bench", ModelVersion = "1", Layer = "list", Dimension = dimension };
            var filled = Stopwatch.StartNew();
            var ids = new List<string>();
            using (var storage = SqliteStorage.Open(directory, TimeProvider.System, RecordChangeObservers.None))
            {
                for (var b = 0; b < total / 10_000; b++)
                {
                    var batch = Make(10_000, dimension, b);
                    ids.AddRange(batch.Take(100).Select(r => r.Id));
                    await storage.Records.IngestAsync(SetId, descriptor, batch).ConfigureAwait(false);
                }
            }

            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"list-sets: {total:N0} records of {dimension}-d stored in {filled.Elapsed.TotalSeconds:F0} s; load {File.ReadAllText("/proc/loadavg").Split(' ')[0]}"));
            using var reopened = SqliteStorage.Open(directory, TimeProvider.System, RecordChangeObservers.None);
            var store = reopened.Records;
            var set = store.FindSet(SetId)!;
            Time("first after a restart", 1, store, () => Task.CompletedTask);
            Time("nothing changed since the last", calls, store, () => Task.CompletedTask);
            var next = total / 10_000;
            var deleted = 0;
            Time("after 1,000 new records and 100 deletions", calls, store, async () =>
            {
                await store.IngestAsync(SetId, descriptor, Make(1_000, dimension, next++)).ConfigureAwait(false);
                await store.DeleteAsync(set, ids.Skip(deleted).Take(100).ToList()).ConfigureAwait(false);
                deleted += 100;
            });
            var live = store.ListSets().Single().TotalRecords;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  live records listed at the end: {live:N0} (expected {total + (calls * 1_000) - Math.Min(deleted, ids.Count):N0})"));
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }

        return 0;
    }

    private static void Time(string label, int calls, IRecordStore store, Func<Task> change)
    {
        var wall = new List<double>();
        var cpu = new List<double>();
        for (var i = 0; i < calls; i++)
        {
            change().GetAwaiter().GetResult();
            var cpuBefore = Process.GetCurrentProcess().TotalProcessorTime;
            var stopwatch = Stopwatch.StartNew();
            _ = store.ListSets();
            wall.Add(stopwatch.Elapsed.TotalMilliseconds);
            cpu.Add((Process.GetCurrentProcess().TotalProcessorTime - cpuBefore).TotalMilliseconds);
        }

        static double Median(List<double> values) => values.Order().ElementAt(values.Count / 2);
        Console.WriteLine(string.Create(
            CultureInfo.InvariantCulture,
            $"  {label,-45} {calls,3} calls: wall median {Median(wall):F2} ms, max {wall.Max():F2} ms; process CPU median {Median(cpu):F1} ms"));
    }

    private static PreparedRecord[] Make(int count, int dimension, int seed)
    {
        var random = new Random(seed);
        var batch = new PreparedRecord[count];
        for (var i = 0; i < count; i++)
        {
            var record = new Record { Id = Guid.CreateVersion7().ToString(), Dataset = i % 10 == 0 ? "training" : "production", TimestampUnixMs = 1_700_000_000_000 };
            for (var d = 0; d < dimension; d++)
            {
                record.Embedding.Add((float)random.NextDouble());
            }

            batch[i] = PreparedRecord.From(record, record.Id);
        }

        return batch;
    }
}
