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
/// <c>index-increments [--initial 200000] [--added 40000] [--clusters 40] [--dimension 128] [--queries 30]</c>: search
/// quality per cluster after records are streamed into a graph that was built from a bulk load. One SQLite store and
/// <see cref="EmbeddingSetIndexes"/> as the server drives them: <c>initial</c> records, the first graph built and taken
/// over; then <c>added</c> more from the same distribution, read and linked into the live graph. The data is clustered
/// as in outside-in probe K (centres N(0, 4^2) per dimension, each cluster's spread uniform in 0.3-1.5, weights uniform
/// in 0.5-2, seeded), whose million-record run found one tight, isolated cluster searched at 0.46 recall@10 after the
/// later inserts, missing either the first load's records or the later ones. For the tightest clusters and some others:
/// recall@10 of fresh queries at the default breadth and at 1,024, before and after the additions, and after them how
/// many of the true ten are from the first load and how many of those the search found.
/// </summary>
internal static class IndexIncrementsCommand
{
    public const string Usage = "[--initial 200000] [--added 40000] [--clusters 40] [--dimension 128] [--queries 30]   (search quality per cluster after streaming into a built graph)";

    private const string SetId = "bench/1/increments";
    private const int K = 10;

    public static async Task<int> RunAsync(CommandArguments args)
    {
        var initial = args.Int("initial", 200_000);
        var added = args.Int("added", 40_000);
        var clusters = args.Int("clusters", 40);
        var dimension = args.Int("dimension", 128);
        var queryCount = args.Int("queries", 30);
        args.RejectUnknown();
        var random = new Random(20261206);
        var centres = Enumerable.Range(0, clusters).Select(_ => Enumerable.Range(0, dimension).Select(_ => (float)(4 * Gaussian(random))).ToArray()).ToArray();
        var spread = Enumerable.Range(0, clusters).Select(_ => 0.3 + (1.2 * random.NextDouble())).ToArray();
        var weights = Enumerable.Range(0, clusters).Select(_ => 0.5 + (1.5 * random.NextDouble())).ToArray();
        var (data, labels) = Draw(initial + added, centres, spread, weights, random);
        var watched = Enumerable.Range(0, clusters).OrderBy(c => spread[c]).Take(5).Concat(Enumerable.Range(0, clusters).OrderBy(c => spread[c]).TakeLast(2)).ToArray();
        var queries = watched.ToDictionary(c => c, c => Enumerable.Range(0, queryCount).Select(_ => Point(centres[c], spread[c], random)).ToArray());
        Console.WriteLine($"index-increments: {initial:N0} records, then {added:N0} more, {clusters} clusters of {dimension}-d, {queryCount} queries in each of {watched.Length} clusters; {Environment.ProcessorCount} cores, load {File.ReadAllText("/proc/loadavg").Split(' ')[0]}");
        var directory = Path.Combine(Path.GetTempPath(), "chroma-increments-" + Guid.NewGuid().ToString("N"));
        try
        {
            using var storage = SqliteStorage.Open(directory, TimeProvider.System, RecordChangeObservers.None);
            var store = storage.Records;
            var descriptor = new SetDescriptor { Model = "bench", ModelVersion = "1", Layer = "increments", Dimension = dimension };
            using var indexes = new EmbeddingSetIndexes(store, new IndexingOptions(), Path.Combine(directory, "indexes"), TimeProvider.System, NullLogger<EmbeddingSetIndexes>.Instance);
            var timer = Stopwatch.StartNew();
            await StoreAsync(store, descriptor, data, dimension, 0, initial).ConfigureAwait(false);
            var set = store.FindSet(SetId)!;
            var index = await indexes.LoadAsync(set).ConfigureAwait(false);
            await CatchUpAsync(indexes, index).ConfigureAwait(false);
            Console.WriteLine($"  first graph over {index.Status().GraphCount:N0} in {timer.Elapsed.TotalSeconds:F0} s; breadth {index.Status().SearchBreadth}");
            var before = Measure(index, data, initial, initial, queries, dimension);
            timer.Restart();
            await StoreAsync(store, descriptor, data, dimension, initial, added).ConfigureAwait(false);
            await CatchUpAsync(indexes, index).ConfigureAwait(false);
            Console.WriteLine($"  {added:N0} more linked in {timer.Elapsed.TotalSeconds:F0} s; graph {index.Status().GraphCount:N0}, breadth {index.Status().SearchBreadth}");
            var after = Measure(index, data, initial + added, initial, queries, dimension);
            Console.WriteLine("  | cluster | spread | records | before: default / 1024 | after: default / 1024 | after: true ten from the first load, found / of |");
            foreach (var c in watched)
            {
                var count = labels.Count(l => l == c);
                Console.WriteLine(string.Create(
                    CultureInfo.InvariantCulture,
                    $"  | {c} | {spread[c]:F2} | {count:N0} | {before[c].Default:F3} / {before[c].Wide:F3} | {after[c].Default:F3} / {after[c].Wide:F3} | {after[c].OldFound} / {after[c].OldTrue} |"));
            }
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }

        return 0;
    }

    private static async Task CatchUpAsync(EmbeddingSetIndexes indexes, AdaptiveVectorIndex index)
    {
        while (true)
        {
            indexes.Poll();
            await indexes.ApplyQueuedAsync().ConfigureAwait(false);
            var status = index.Status();
            if (status.Kind == SetIndexKind.Hnsw && status.GraphCount == status.Count && index.PendingCount == 0 && index.EstimateCompletion.IsCompleted)
            {
                if (index.StartEstimateIfStale())
                {
                    await index.EstimateCompletion.ConfigureAwait(false);
                }

                return;
            }

            await Task.Delay(200).ConfigureAwait(false);
        }
    }

    private static Dictionary<int, (double Default, double Wide, int OldFound, int OldTrue)> Measure(
        AdaptiveVectorIndex index, float[] data, int count, int firstLoad, Dictionary<int, float[][]> queries, int dimension)
    {
        var result = new Dictionary<int, (double, double, int, int)>();
        foreach (var (cluster, points) in queries)
        {
            int hits = 0, wideHits = 0, oldFound = 0, oldTrue = 0;
            foreach (var q in points)
            {
                var truth = Exact(data, count, q, dimension);
                var found = index.Search(q, K).Select(n => n.Sequence).ToHashSet();
                var wide = index.Search(q, K, null, new NearestSearchOptions(Breadth: 1024)).Select(n => n.Sequence).ToHashSet();
                hits += truth.Count(found.Contains);
                wideHits += truth.Count(wide.Contains);
                oldTrue += truth.Count(s => s <= firstLoad);
                oldFound += truth.Count(s => s <= firstLoad && found.Contains(s));
            }

            result[cluster] = (hits / (double)(points.Length * K), wideHits / (double)(points.Length * K), oldFound, oldTrue);
        }

        return result;
    }

    /// <summary>The sequences (1-based, as stored in order) of the exact ten nearest among the first <paramref name="count"/> rows.</summary>
    private static long[] Exact(float[] data, int count, float[] q, int dimension)
    {
        var best = new PriorityQueue<long, float>(Comparer<float>.Create((a, b) => b.CompareTo(a)));
        for (var i = 0; i < count; i++)
        {
            var d = System.Numerics.Tensors.TensorPrimitives.Distance(data.AsSpan(i * dimension, dimension), q);
            if (best.Count < K)
            {
                best.Enqueue(i + 1, d);
            }
            else if (best.TryPeek(out _, out var worst) && d < worst)
            {
                best.DequeueEnqueue(i + 1, d);
            }
        }

        return [.. best.UnorderedItems.Select(x => x.Element)];
    }

    private static async Task StoreAsync(IRecordStore store, SetDescriptor descriptor, float[] data, int dimension, int from, int count)
    {
        for (var b = from; b < from + count; b += 2_000)
        {
            var batch = new PreparedRecord[Math.Min(2_000, from + count - b)];
            for (var i = 0; i < batch.Length; i++)
            {
                var record = new Record { Id = Guid.CreateVersion7().ToString(), Dataset = "production", TimestampUnixMs = 1_700_000_000_000 };
                record.Embedding.Add(data.AsSpan((b + i) * dimension, dimension).ToArray());
                batch[i] = PreparedRecord.From(record, record.Id);
            }

            await store.IngestAsync(SetId, descriptor, batch).ConfigureAwait(false);
        }
    }

    private static (float[] Data, int[] Labels) Draw(int n, float[][] centres, double[] spread, double[] weights, Random random)
    {
        var dimension = centres[0].Length;
        var total = weights.Sum();
        var data = new float[n * dimension];
        var labels = new int[n];
        for (var i = 0; i < n; i++)
        {
            var u = random.NextDouble() * total;
            var c = 0;
            while (c < weights.Length - 1 && (u -= weights[c]) > 0)
            {
                c++;
            }

            labels[i] = c;
            Point(centres[c], spread[c], random).CopyTo(data, i * dimension);
        }

        return (data, labels);
    }

    private static float[] Point(float[] centre, double spread, Random random) =>
        [.. centre.Select(x => x + (float)(spread * Gaussian(random)))];

    private static double Gaussian(Random random) =>
        Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
}
