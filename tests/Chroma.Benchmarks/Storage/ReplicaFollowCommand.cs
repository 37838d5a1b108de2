using System.Diagnostics;
using System.Globalization;
using Chroma.Server.Tests.Recommendations.Data;
using Chroma.Testing.Postgres;

namespace Chroma.Benchmarks.Storage;

/// <summary>
/// <c>replica-follow [production] [rate] [batch] [training]</c>: two replicas on one PostgreSQL database, each its own
/// <c>chroma-server</c> process (<see cref="ReplicaProcess"/>). One set (128-d, 4 labelled classes of clustered
/// synthetic vectors, seeded) gets <c>training</c> training records through replica A, which scores it and so holds
/// its scoring lease; replica B starts after that (so the roles are the same in every run). Once both serve a ranking,
/// <c>production</c> records go in through replica A only, <c>batch</c> at a time at <c>rate</c> per second, while
/// both replicas are asked once a second for recommendations that wait for everything acknowledged
/// (<see cref="AcknowledgedProbe"/>). Per replica: whether it holds the set's scoring lease, its CPU over the ingest
/// (from /proc), its scoring passes (event 300) or, on the other one, its reads of the ranking the holder stored after
/// each published pass (event 335: count, rows, milliseconds), and the wait-for-acknowledged latencies; then how long
/// after the last ack each replica serves a ranking that covers it. The follow reads are what an incremental read
/// should cut.
/// </summary>
internal static class ReplicaFollowCommand
{
    public const string Usage = "[production=60000] [rate=1000] [batch=200] [training=2000] [--logs DIR]   (two chroma-server replicas on PostgreSQL, steady ingest through one: CPU and follow reads of the non-scoring one, wait-for-acknowledged latency on both)";

    private const int Dimension = 128;
    private const int Classes = 4;
    private const double Separation = 4;
    private static readonly TimeSpan ReadyTimeout = TimeSpan.FromMinutes(3);

    public static async Task<int> RunAsync(string[] args)
    {
        var logs = TakeLogDirectory(ref args);
        var production = Positional(args, 0, 60_000);
        var rate = Positional(args, 1, 1_000);
        var batch = Positional(args, 2, 200);
        var training = Positional(args, 3, 2_000);
        if (args.Length > 4 || production < batch || rate < 1 || batch < 1 || training < 2 * Classes)
        {
            throw new ArgumentException($"production must be at least batch (>= 1), rate at least 1, training at least {2 * Classes}.");
        }

        Console.WriteLine(Line($"replica-follow: {training:N0} training + {production:N0} production records of {Dimension}-d in one set, {rate:N0}/s in batches of {batch} through replica A; 2 replicas (processes) on PostgreSQL; {Environment.ProcessorCount} cores, load {Load()}"));
        var (connectionString, reason) = await TestPostgres.CreateDatabaseAsync().ConfigureAwait(false);
        if (connectionString is null)
        {
            Console.WriteLine($"PostgreSQL: not measured ({reason})");
            return 1;
        }

        var root = Path.Combine(Path.GetTempPath(), "chroma-follow-" + Guid.NewGuid().ToString("N")[..12]);
        try
        {
            if (logs is not null)
            {
                Directory.CreateDirectory(logs);
            }

            ReplicaProcess Start(string name) =>
                ReplicaProcess.Start(connectionString, Path.Combine(root, name), ScoringLogLines.Environment, logs is null ? null : Path.Combine(logs, name + ".log"));
            var a = Start("a");
            await using (a.ConfigureAwait(false))
            {
                await new FollowRun(connectionString, a, () => Start("b"), new Workload(production, rate, batch, training)).ExecuteAsync().ConfigureAwait(false);
            }
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

    public static string Line(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);

    public static string Load() => File.ReadAllText("/proc/loadavg").Split(' ')[0];

    private static int Positional(string[] args, int at, int fallback) =>
        args.Length > at ? int.Parse(args[at], CultureInfo.InvariantCulture) : fallback;

    private static string? TakeLogDirectory(ref string[] args)
    {
        var at = Array.IndexOf(args, "--logs");
        if (at < 0)
        {
            return null;
        }

        var directory = at + 1 < args.Length ? Path.GetFullPath(args[at + 1]) : throw new ArgumentException("--logs needs a directory.");
        args = [.. args[..at], .. args[(at + 2)..]];
        return directory;
    }

    /// <summary>The records of one run: training (labelled) and production (predicted class = cluster), in a seeded shuffled order.</summary>
    internal sealed record Workload(int Production, int Rate, int Batch, int Training)
    {
        public EmbeddingSetDescriptor Descriptor { get; } = new("bench-follow", "1", "fc", Dimension);

        public static int Dimension => ReplicaFollowCommand.Dimension;

        public void LogTraining(EmbeddingSet set)
        {
            ArgumentNullException.ThrowIfNull(set);
            var (embeddings, labels) = SyntheticEmbeddings.Clusters(Classes, Training / Classes, Dimension, Separation, seed: 1);
            for (var i = 0; i < labels.Length; i++)
            {
                set.LogTraining(embeddings.AsSpan(i * Dimension, Dimension), labels[i]);
            }
        }

        /// <summary>Production rows (count rounded up to the classes) and the order to send them in.</summary>
        public (float[] Embeddings, string[] Predicted, int[] Order) ProductionRows(int count, int seed)
        {
            var (embeddings, predicted) = SyntheticEmbeddings.Clusters(Classes, (count + Classes - 1) / Classes, Dimension, Separation, seed);
            var order = Enumerable.Range(0, predicted.Length).ToArray();
            new Random(seed).Shuffle(order);
            return (embeddings, predicted, order[..count]);
        }
    }
}
