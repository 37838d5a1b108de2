using System.Diagnostics;
using System.Globalization;
using Chroma.Benchmarks.Data;
using Chroma.Samples.TorchSharp;
using Chroma.Server.Indexing;
using Chroma.Server.Indexing.Hnsw;
using Chroma.Server.Indexing.Internal;

namespace Chroma.Benchmarks.Ann;

/// <summary>
/// <c>recall-estimate [--records 30000] [--queries 500] [--sets a,b,...] [--sample 200]</c>: how well the server's default
/// search breadth (<see cref="RecallEstimator"/>, which picks the smallest ef whose estimated recall@10 reaches 0.95)
/// serves queries the set has never seen. Per vector set (generated, seeded; MNIST pixels from the samples' data): an
/// HNSW graph as the server builds it (M 16, ef_construction 200, all cores, then the reconnect pass), the true recall@10
/// of fresh queries from the same source at every breadth of the estimator's ladder (a returned record counts when it is
/// one of the exact ten, or as near as the tenth: copies of a vector are interchangeable), then the server's estimate:
/// the breadth it picks, the recall it estimates, and the fresh queries' true recall at that breadth.
/// </summary>
internal static class RecallEstimateCommand
{
    public const string Usage = "[--records 30000] [--queries 500] [--sets clustered,textlike,isotropic,varnorm,copies,mnist,mnist-letters] [--sample 200] [--k 10]   (the default search breadth against fresh queries; --k above 10: also recall@k at beams derived from it)";

    private const int K = 10;

    public static int Run(CommandArguments args)
    {
        var records = args.Int("records", 30_000);
        var queryCount = args.Int("queries", 500);
        var sample = args.Int("sample", RecallEstimator.DefaultSampleSize);
        var neighbours = args.Int("k", K);
        var sets = args.StringList("sets", "clustered,textlike,isotropic,varnorm,copies,mnist,mnist-letters");
        args.RejectUnknown();
        using var threads = new IndexBuildThreads(Environment.ProcessorCount);
        Console.WriteLine($"recall-estimate: {records:N0} records per generated set, {queryCount} fresh queries, estimate sample {sample}, {Environment.ProcessorCount} cores");
        foreach (var name in sets)
        {
            var (data, queries, dimension, metric) = Load(name, records, queryCount);
            Measure(name, data, queries, dimension, metric, sample, threads, neighbours);
        }

        return 0;
    }

    private static void Measure(string name, float[] data, float[] queries, int dimension, HnswMetric metric, int sample, IndexBuildThreads threads, int k)
    {
        var n = data.Length / dimension;
        var q = queries.Length / dimension;
        using var graph = new HnswIndex(new HnswOptions { Dimension = dimension, Metric = metric, M = 16, EfConstruction = 200 });
        var built = Stopwatch.StartNew();
        Parallel.For(0, n, i => graph.Add(i, data.AsSpan(i * dimension, dimension)));
        graph.Reconnect();
        Console.WriteLine($"{name}: {n:N0} x {dimension} {metric}, {q} fresh queries; built in {built.Elapsed.TotalSeconds:F1} s");

        var truth = new HnswSearchResult[q][];
        Parallel.For(0, q, i => truth[i] = graph.SearchExactly(queries.AsSpan(i * dimension, dimension), K));
        var trueRecall = new Dictionary<int, double>();
        var line = new List<string>();
        foreach (var ef in RecallEstimator.Ladder)
        {
            var hits = new int[q];
            Parallel.For(0, q, i => hits[i] = RecallEstimator.Hits(graph.Search(queries.AsSpan(i * dimension, dimension), K, tag: null, ef: ef), truth[i]));
            trueRecall[ef] = hits.Sum() / (double)(q * K);
            line.Add(string.Create(CultureInfo.InvariantCulture, $"{ef}: {trueRecall[ef]:F3}"));
        }

        Console.WriteLine($"  fresh queries, true recall@10 by breadth: {string.Join(", ", line)}");
        var estimate = RecallEstimator.EstimateAsync(graph, threads, sample, 17).GetAwaiter().GetResult()!;
        var atPick = trueRecall[estimate.SearchBreadth];
        var smallestEnough = RecallEstimator.Ladder.FirstOrDefault(ef => trueRecall[ef] >= RecallEstimator.TargetRecall);
        Console.WriteLine(string.Create(
            CultureInfo.InvariantCulture,
            $"  the estimate picks {estimate.SearchBreadth}, estimates {estimate.RecallAt10:F3} on {estimate.SampleSize} queries; fresh queries get {atPick:F3} there ({(atPick >= RecallEstimator.TargetRecall ? "meets" : "BELOW")} 0.95; the smallest breadth that meets it: {(smallestEnough == 0 ? "none" : smallestEnough.ToString(CultureInfo.InvariantCulture))})"));
        MeasureFarQueries(graph, data, queries, dimension, estimate);
        if (k > K)
        {
            // recall@k of the fresh queries at beams derived from the default breadth B, the server's among them.
            var b = estimate.SearchBreadth;
            var truthK = new HnswSearchResult[q][];
            Parallel.For(0, q, i => truthK[i] = graph.SearchExactly(queries.AsSpan(i * dimension, dimension), k));
            var beams = new[]
            {
                ("max(B, k)", Math.Max(b, k)), ("the server's (1 + log10(k / 10)) max(B, k)", HnswVectorIndex.DefaultBeam(b, k)),
                ("2 max(B, k)", 2 * Math.Max(b, k)), ("B k / 10", Math.Max(k, b * k / K)),
            };
            var parts = beams.Select(beam =>
            {
                var hits = new int[q];
                Parallel.For(0, q, i => hits[i] = RecallEstimator.Hits(graph.Search(queries.AsSpan(i * dimension, dimension), k, tag: null, ef: beam.Item2), truthK[i]));
                return string.Create(CultureInfo.InvariantCulture, $"{beam.Item1} = {beam.Item2}: {hits.Sum() / (double)(q * k):F3}");
            });
            Console.WriteLine($"  recall@{k} of the fresh queries by beam: {string.Join(", ", parts)}");
        }
    }

    /// <summary>
    /// Recall@10 at the default breadth alone and through the server's default search (which searches again with a wider
    /// beam when the nearest found vector lies far from the data, <see cref="HnswVectorIndex.IsFar"/>), for the fresh
    /// queries, for midpoints of two random stored vectors (between clusters) and for random directions at ten times the
    /// data's mean length; and how often the wider search ran.
    /// </summary>
    private static void MeasureFarQueries(HnswIndex graph, float[] data, float[] fresh, int dimension, RecallEstimate estimate)
    {
        var n = data.Length / dimension;
        var random = new Random(23);
        var count = fresh.Length / dimension;
        var meanLength = Enumerable.Range(0, n).Average(i => Math.Sqrt(data.AsSpan(i * dimension, dimension).ToArray().Sum(x => (double)x * x)));
        var between = new float[count * dimension];
        var far = new float[count * dimension];
        for (var i = 0; i < count; i++)
        {
            var (a, b) = (random.Next(n), random.Next(n));
            var direction = Enumerable.Range(0, dimension).Select(_ => MakeDataCommand.Gaussian(random)).ToArray();
            var norm = MathF.Sqrt(direction.Sum(x => x * x));
            for (var d = 0; d < dimension; d++)
            {
                between[(i * dimension) + d] = (data[(a * dimension) + d] + data[(b * dimension) + d]) / 2;
                far[(i * dimension) + d] = direction[d] / norm * (float)(10 * meanLength);
            }
        }

        var index = new HnswVectorIndex(graph, new Dictionary<string, int>()) { Estimate = estimate };
        var parts = new[] { ("fresh", fresh), ("between", between), ("far", far) }.Select(set =>
        {
            var (plain, served, widened) = (new int[count], new int[count], 0);
            Parallel.For(0, count, i =>
            {
                var query = set.Item2.AsSpan(i * dimension, dimension);
                var truth = graph.SearchExactly(query, K);
                var alone = graph.Search(query, K, tag: null, ef: estimate.SearchBreadth);
                plain[i] = RecallEstimator.Hits(alone, truth);
                served[i] = RecallEstimator.Hits([.. index.Search(query, K).Select(r => new HnswSearchResult(r.Sequence, r.Distance))], truth);
                if (index.IsFar(alone, estimate))
                {
                    Interlocked.Increment(ref widened);
                }
            });
            return string.Create(CultureInfo.InvariantCulture, $"{set.Item1} {plain.Sum() / (double)(count * K):F3} -> {served.Sum() / (double)(count * K):F3} ({widened} of {count} widened)");
        });
        Console.WriteLine($"  recall@10 at the default breadth alone -> through the server's default search: {string.Join("; ", parts)}");
        var beam = HnswVectorIndex.DefaultBeam(estimate.SearchBreadth, K);
        CompareAnswers(graph, "fresh", fresh, dimension, beam);
        CompareAnswers(graph, "far (widened)", far, dimension, HnswVectorIndex.FarBeam(beam));
    }

    /// <summary>
    /// The two answers a default search can give <paramref name="queries"/> with <paramref name="beam"/>: the walk and an
    /// exact scan, each timed one query after another on this thread (ms per query, the mean of all), with the walk's
    /// recall@10 and which of the two the server takes at this size (<see cref="HnswVectorIndex.ScanCostsNoMore"/>).
    /// </summary>
    private static void CompareAnswers(HnswIndex graph, string label, float[] queries, int dimension, int beam)
    {
        var count = queries.Length / dimension;
        var truth = new HnswSearchResult[count][];
        var timer = Stopwatch.StartNew();
        for (var i = 0; i < count; i++)
        {
            truth[i] = graph.SearchExactly(queries.AsSpan(i * dimension, dimension), K);
        }

        var scanMs = timer.Elapsed.TotalMilliseconds / count;

        // Recall@10 and ms per query of one way to search, the queries one after another.
        string Measured(Func<ReadOnlySpan<float>, HnswSearchResult[]> search)
        {
            var (hits, started) = (0, Stopwatch.GetTimestamp());
            for (var i = 0; i < count; i++)
            {
                hits += RecallEstimator.Hits(search(queries.AsSpan(i * dimension, dimension)), truth[i]);
            }

            return string.Create(CultureInfo.InvariantCulture, $"{hits / (double)(count * K):F3}, {Stopwatch.GetElapsedTime(started).TotalMilliseconds / count:F2} ms");
        }

        var walk = Measured(q => graph.Search(q, K, tag: null, ef: beam));
        var seeded = Measured(q => graph.SearchFromSample(q, K, beam));
        var sample = HnswIndex.FarSampleSize(graph.NodeCount);
        var otherSamples = string.Join(", ", new[] { sample / 4, sample * 4 }.Select(size => string.Create(CultureInfo.InvariantCulture, $"{size:N0}: {Measured(q => graph.SearchFromSample(q, K, beam, size))}")));
        var scans = HnswVectorIndex.ScanCostsNoMore(graph.Count + graph.DeletedCount, beam, graph.Options.M);
        Console.WriteLine(string.Create(
            CultureInfo.InvariantCulture,
            $"  {label} queries by the walk at beam {beam}: recall@10 {walk} per query; seeded from a sample too: {seeded} (a sample of {sample:N0}; of {otherSamples}); by an exact scan: 1.000, {scanMs:F2} ms; the server {(scans ? "scans" : "walks")} at {graph.Count:N0}"));
    }

    private static (float[] Data, float[] Queries, int Dimension, HnswMetric Metric) Load(string name, int records, int queryCount)
    {
        var random = new Random(7);
        switch (name)
        {
            case "clustered":
                return Split(MakeDataCommand.Clustered(records + queryCount, 128, random), records, 128, HnswMetric.L2);
            case "textlike":
                return Split(TextLike(records + queryCount, 384, random), records, 384, HnswMetric.Cosine);
            case "isotropic":
                return Split(Isotropic(records + queryCount, 256, random), records, 256, HnswMetric.L2);
            case "varnorm":
                return Split(VaryingNorms(MakeDataCommand.Clustered(records + queryCount, 128, random), 128, random), records, 128, HnswMetric.L2);
            case "copies":
                return Split(WithCopies(Isotropic(records + queryCount, 128, random), records, 128, random), records, 128, HnswMetric.L2);
            case "mnist":
            case "mnist-letters":
                var directory = SampleData.FindDirectory(null);
                var digits = Pixels(IdxReader.ReadImages(Path.Combine(directory, "mnist-t10k-images-idx3-ubyte.gz")));
                var stored = digits[..(8_000 * 784)];
                var fresh = name == "mnist"
                    ? digits[(8_000 * 784)..]
                    : Pixels(IdxReader.ReadImages(Path.Combine(directory, "notmnist-t10k-images-idx3-ubyte.gz")))[..(2_000 * 784)];
                return (stored, fresh[..(Math.Min(queryCount, fresh.Length / 784) * 784)], 784, HnswMetric.L2);
            default:
                throw new ArgumentException($"Unknown set '{name}'.");
        }
    }

    private static (float[], float[], int, HnswMetric) Split(float[] all, int records, int dimension, HnswMetric metric) =>
        (all[..(records * dimension)], all[(records * dimension)..], dimension, metric);

    private static float[] Pixels(IdxImages images) => [.. images.Pixels.Select(p => p / 255f)];

    /// <summary>
    /// Like sentence embeddings: a shared mean direction, a power-law spectrum (singular values i^-0.5 over random
    /// directions) and 300 clusters of Zipf-like weights.
    /// </summary>
    private static float[] TextLike(int count, int dimension, Random random)
    {
        const int clusters = 300;
        var basis = new float[dimension * dimension];
        for (var i = 0; i < basis.Length; i++)
        {
            basis[i] = MakeDataCommand.Gaussian(random) / MathF.Sqrt(dimension) * MathF.Pow((i / dimension) + 1, -0.5f);
        }

        var mean = Enumerable.Range(0, dimension).Select(_ => MakeDataCommand.Gaussian(random)).ToArray();
        var meanNorm = MathF.Sqrt(mean.Sum(x => x * x));
        var centres = new float[clusters * dimension];
        for (var c = 0; c < clusters; c++)
        {
            Mix(basis, dimension, [.. Enumerable.Range(0, dimension).Select(_ => MakeDataCommand.Gaussian(random))], centres.AsSpan(c * dimension, dimension), 1f);
        }

        var weights = Enumerable.Range(1, clusters).Select(r => 1.0 / Math.Pow(r, 1.1)).ToArray();
        var total = weights.Sum();
        var data = new float[count * dimension];
        for (var p = 0; p < count; p++)
        {
            var pick = random.NextDouble() * total;
            var c = 0;
            while (c < clusters - 1 && (pick -= weights[c]) > 0)
            {
                c++;
            }

            var row = data.AsSpan(p * dimension, dimension);
            for (var d = 0; d < dimension; d++)
            {
                row[d] = (mean[d] / meanNorm * 3f) + centres[(c * dimension) + d];
            }

            Mix(basis, dimension, [.. Enumerable.Range(0, dimension).Select(_ => MakeDataCommand.Gaussian(random))], row, 0.8f);
        }

        return data;
    }

    /// <summary>Adds <paramref name="scale"/> times basis * z to <paramref name="row"/> (basis row-major, row d = output d).</summary>
    private static void Mix(float[] basis, int dimension, float[] z, Span<float> row, float scale)
    {
        for (var d = 0; d < dimension; d++)
        {
            var sum = 0f;
            for (var j = 0; j < dimension; j++)
            {
                sum += basis[(j * dimension) + d] * z[j];
            }

            row[d] += scale * sum;
        }
    }

    private static float[] Isotropic(int count, int dimension, Random random) =>
        [.. Enumerable.Range(0, count * dimension).Select(_ => MakeDataCommand.Gaussian(random))];

    /// <summary>Each vector scaled by a log-uniform factor between 0.01 and 100.</summary>
    private static float[] VaryingNorms(float[] data, int dimension, Random random)
    {
        for (var p = 0; p < data.Length / dimension; p++)
        {
            var scale = MathF.Pow(10, (float)((random.NextDouble() * 4) - 2));
            foreach (ref var x in data.AsSpan(p * dimension, dimension))
            {
                x *= scale;
            }
        }

        return data;
    }

    /// <summary>30% of the stored rows replaced by copies of 100 of them (a default input logged many times); queries untouched.</summary>
    private static float[] WithCopies(float[] data, int records, int dimension, Random random)
    {
        for (var i = 0; i < records * 3 / 10; i++)
        {
            var row = 100 + random.Next(records - 100);
            data.AsSpan(random.Next(100) * dimension, dimension).CopyTo(data.AsSpan(row * dimension, dimension));
        }

        return data;
    }
}
