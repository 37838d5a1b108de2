extern alias client;

using Chroma.Server.Storage.Sqlite;
using System.Diagnostics;
using System.Reflection;
using Chroma.Benchmarks.Data;
using Google.Protobuf;
using Chroma.Server.Hosting;
using Chroma.Server.Indexing;
using Chroma.Server.Storage;
using Microsoft.Extensions.Logging.Abstractions;

namespace Chroma.Benchmarks.Ann;

/// <summary>
/// The server's background index build, end to end below gRPC: the vectors are stored in a real SQLite store,
/// then a fresh <see cref="EmbeddingSetIndexes"/> loads the set (exact search answers) and builds its HNSW graph
/// on the dedicated index threads with checkpoints, as after a restart with catch-up work; then the graph is
/// saved and a second registry loads it from its file (the restart). Optionally the first build is interrupted
/// after a checkpoint and resumed by a new registry. Reports wall time and process CPU seconds for each phase.
/// </summary>
internal static class IndexBuildCommand
{
    public const string Usage =
        "--base B.fvecs [--limit N] [--threads T (default cores-1)] [--step 16384] [--checkpoint-seconds 30] " +
        "[--interrupt-after N (vectors; resume after a simulated crash)] [--dir DIR]";

    public static int Run(CommandArguments args)
    {
        string basePath = args.Required("base");
        int limit = args.Int("limit", int.MaxValue);
        int threads = args.Int("threads", 0);
        int step = args.Int("step", 8_192);
        int checkpointSeconds = args.Int("checkpoint-seconds", 30);
        int interruptAfter = args.Int("interrupt-after", 0);
        string dir = args.Optional("dir") ?? Path.Combine(Path.GetTempPath(), "chroma-index-build-" + Guid.NewGuid().ToString("N")[..8]);
        args.RejectUnknown();
        return RunAsync(basePath, limit, threads, step, checkpointSeconds, interruptAfter, dir).GetAwaiter().GetResult();
    }

    private static async Task<int> RunAsync(string basePath, int limit, int threads, int step, int checkpointSeconds, int interruptAfter, string dir)
    {
        (float[] data, int n, int dim) = VecsFile.ReadFloats(basePath);
        n = Math.Min(n, limit);
        var options = new ChromaServerOptions
        {
            DataDirectory = dir,
            Indexing = { BuildThreads = threads, BuildCheckpointInterval = TimeSpan.FromSeconds(checkpointSeconds) },
        };
        Directory.CreateDirectory(dir);
        Console.WriteLine($"{Path.GetFileName(basePath)}: {n} x {dim}, cores {Environment.ProcessorCount}, data in {dir}");
        using var store = SqliteRecordStore.Open(dir, TimeProvider.System);
        var descriptor = ServerMessage(new client::Chroma.Protocol.V1.EmbeddingSetDescriptor { Model = "ann", ModelVersion = "1", Layer = "base", Dimension = dim });
        var prepare = typeof(PreparedRecord).GetMethod(nameof(PreparedRecord.From))!;
        var ingestMethod = typeof(SqliteRecordStore).GetMethod(nameof(SqliteRecordStore.IngestAsync))!;
        var ingest = Measure.Start();
        for (int start = 0; start < n; start += 10_000)
        {
            var batch = new List<PreparedRecord>();
            for (int i = start; i < Math.Min(n, start + 10_000); i++)
            {
                var record = new client::Chroma.Protocol.V1.Record { Id = "r" + i, Dataset = "production", TimestampUnixMs = 1_700_000_000_000 };
                record.Embedding.AddRange(data.AsSpan(i * dim, dim).ToArray());
                batch.Add((PreparedRecord)prepare.Invoke(null, [ServerMessage(record), record.Id, 0L])!);
            }

            await (Task)ingestMethod.Invoke(store, ["ann/1/base", descriptor, batch, CancellationToken.None])!;
        }

        ingest.Report($"store {n} records in SQLite (not part of the goal)");
        var set = store.ListSets().Single().Set;

        int resumed = 0;
        if (interruptAfter > 0)
        {
            var interrupted = Measure.Start();
            var first = Registry(store, options, step);
            // Continuations run elsewhere: the observer runs on an index thread, and the "crash" below disposes the
            // registry, which waits for that thread's build (inline, it waited for itself and hung).
            var reached = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            first.BuildStepObserver = async (progress, token) =>
            {
                if (progress.Indexed >= interruptAfter)
                {
                    progress.Checkpoint = true;
                    reached.TrySetResult();
                }

                if (progress.Indexed >= interruptAfter + step)
                {
                    await Task.Delay(Timeout.Infinite, token);
                }
            };
            var firstIndex = await first.LoadAsync(set);
            await reached.Task;

            // The checkpoint asked for is written after the observer returns: crash only once it is on disk.
            while (firstIndex.CheckpointsSaved == 0)
            {
                await Task.Delay(50);
            }

            // The crash: the first registry stops (its build cancelled) before the second one starts.
            first.Dispose();
            interrupted.Report($"first build up to a checkpoint at >= {interruptAfter} vectors, then stopped (a crash)");
        }

        var build = Measure.Start();
        AdaptiveVectorIndex index;
        using (var registry = Registry(store, options, step))
        {
            index = await registry.LoadAsync(set);
            build.Report($"load {n} vectors from the store (exact search answers from here)");
            await index.BuildCompletion;
            resumed = index.ResumedVectors;
            var status = index.Status();
            build.Report(
                $"background build done ({registry.Threads.Count} index threads, {index.CheckpointsSaved} checkpoints, {resumed} resumed; " +
                $"breadth {status.SearchBreadth}, estimated recall@10 {status.Estimate?.RecallAt10:F3})");
            var save = Measure.Start();
            await registry.SaveChangedAsync();
            save.Report($"save ({new FileInfo(Directory.GetFiles(registry.IndexDirectory, "*.hnsw").Single()).Length / 1048576.0:F0} MiB)");
        }

        var restart = Measure.Start();
        using (var registry = Registry(store, options, step))
        {
            var loaded = await registry.LoadAsync(set);
            restart.Report($"restart: ready from the saved file ({(loaded.Hnsw is null ? "NOT ready" : "HNSW answers")}, report {registry.GetLoadReport(set)})");
        }

        return 0;
    }

    /// <summary>
    /// The server's own (internal) copy of a protocol message: both assemblies define the generated types, so the
    /// benchmark builds the client's and re-parses its bytes as the server's.
    /// </summary>
    private static object ServerMessage(IMessage message)
    {
        var type = typeof(PreparedRecord).Assembly.GetType(message.Descriptor.ClrType.FullName!)!;
        var parser = (MessageParser)type.GetProperty("Parser", BindingFlags.Public | BindingFlags.Static)!.GetValue(null)!;
        return parser.ParseFrom(message.ToByteArray());
    }

    private static EmbeddingSetIndexes Registry(SqliteRecordStore store, ChromaServerOptions options, int step) =>
        new(store, options.Indexing, Path.Combine(Path.GetFullPath(options.DataDirectory), "indexes"), TimeProvider.System, NullLogger<EmbeddingSetIndexes>.Instance) { BuildStepSize = step };

    /// <summary>Wall time and process CPU time since the start (CPU: every thread, robust to other load on the machine).</summary>
    private sealed class Measure
    {
        private readonly Stopwatch _wall = Stopwatch.StartNew();
        private readonly TimeSpan _cpu = Process.GetCurrentProcess().TotalProcessorTime;

        public static Measure Start() => new();

        public void Report(string what)
        {
            var cpu = Process.GetCurrentProcess().TotalProcessorTime - _cpu;
            Console.WriteLine($"{what}: {_wall.Elapsed.TotalSeconds:F2} s wall, {cpu.TotalSeconds:F2} CPU s");
        }
    }
}
