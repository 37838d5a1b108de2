using System.Diagnostics;
using System.Globalization;
using Chroma.Server.Recommendations;
using Chroma.Server.Tests.Recommendations.Data;

namespace Chroma.Benchmarks.Recommendations;

/// <summary>
/// Wall-clock timings of the recommendation engine and the real-data letter-vs-digit AUROCs.
/// <c>dotnet run -c Release --project tests/Chroma.Benchmarks -- recs [training] [production] [dimension]</c>
/// </summary>
internal static class RecommendationBenchmark
{
    public static int Run(string[] args)
    {
        var training = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 10_000;
        var production = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 100_000;
        var dimension = args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 128;
        Console.WriteLine($"cores={Environment.ProcessorCount} training={training} production={production} d={dimension}");
        Timings(training, production, dimension);
        LetterVsDigit();
        return 0;
    }

    private static void Timings(int trainingCount, int productionCount, int d)
    {
        const int classes = 10;
        var (trainEmbeddings, labels) = SyntheticEmbeddings.Clusters(classes, trainingCount / classes, d, 4, seed: 1);
        var (prodEmbeddings, prodLabels) = SyntheticEmbeddings.Clusters(classes, productionCount / classes, d, 4, seed: 2);
        var random = new Random(3);
        var probabilities = prodLabels.Select(_ =>
        {
            var p = Enumerable.Range(0, classes).Select(_ => (float)Math.Exp(3 * random.NextGaussian())).ToArray();
            return (float[]?)p;
        }).ToArray();
        var batch = new ProductionBatch(SyntheticEmbeddings.Ids(prodLabels.Length), prodEmbeddings, d, prodLabels, probabilities);

        var stopwatch = new Stopwatch();
        Restart(stopwatch);
        var model = RecommendationModel.Fit(new TrainingData(trainEmbeddings, d, labels), "bench");
        Report("fit (Ledoit-Wolf, Cholesky, brute-force index, held-out calibration)", stopwatch);

        Restart(stopwatch);
        Parallel.For(0, batch.Count, () => new float[d], (i, _, buffer) =>
        {
            UnitVectors.Normalize(batch.Row(i), buffer);
            model.NeighborSearch.Search(buffer, model.Options.NeighborCount);
            return buffer;
        }, _ => { });
        Report($"neighbour search only, {batch.Count} queries (brute force over {model.FitLabels.Count})", stopwatch);

        Restart(stopwatch);
        Parallel.For(0, batch.Count, i => model.Mahalanobis.Score(batch.Row(i)));
        Report($"Mahalanobis only, {batch.Count} records", stopwatch);

        var scorer = new IncrementalScorer(model);
        Restart(stopwatch);
        scorer.Add(batch);
        Report($"score all signals, {batch.Count} records", stopwatch);

        var (newEmbeddings, newLabels) = SyntheticEmbeddings.Clusters(classes, 100, d, 4, seed: 4);
        var fresh = new ProductionBatch(SyntheticEmbeddings.Ids(newLabels.Length, "new"), newEmbeddings, d, newLabels);
        Restart(stopwatch);
        var added = scorer.Add(fresh);
        Report($"score {added} new records incrementally", stopwatch);

        var snapshot = scorer.Snapshot();
        Restart(stopwatch);
        var ranked = RecommendationRanker.Rank(snapshot, Server.Recommendations.RecommendationStrategy.Balanced, 20);
        Report($"rank top {ranked.Count} of {snapshot.Count} (pool 1000, duplicates, k-center)", stopwatch);

        Restart(stopwatch);
        var drift = MmdDriftDetector.Measure(trainEmbeddings, prodEmbeddings, d);
        Report(string.Create(CultureInfo.InvariantCulture, $"MMD drift 500 vs 500, 200 permutations (MMD2={drift.Mmd2:0.0000}, p={drift.PValue:0.000})"), stopwatch);
    }

    private static void LetterVsDigit()
    {
        var directory = LetterVsDigitExperiment.FindDataDirectory(AppContext.BaseDirectory);
        var (training, letters, laterDigits) = LetterVsDigitExperiment.DriftSamples(directory, 1000);
        foreach (var (name, recent) in new[] { ("letters", letters), ("digits", laterDigits) })
        {
            var drift = MmdDriftDetector.Measure(training, recent, 784);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"MMD drift 1000 training digits vs 1000 {name} (784-d pixels): MMD2={drift.Mmd2:0.0000} p={drift.PValue:0.000}"));
        }

        foreach (var projectTo in new[] { 128, 0 })
        {
            var stopwatch = Stopwatch.StartNew();
            var result = LetterVsDigitExperiment.Run(directory, 6000, 1000, 1000, projectTo);
            var digits = result.Scored.Where(r => r.Id.StartsWith("digit", StringComparison.Ordinal)).ToArray();
            var meanPercentile = digits.Average(r => r.Signal(SignalKind.Mahalanobis)!.Value.Percentile);
            Console.WriteLine(string.Create(
                CultureInfo.InvariantCulture,
                $"letter-vs-digit d={(projectTo > 0 ? projectTo : 784)} ({stopwatch.Elapsed.TotalSeconds:0.00} s, shrinkage {result.Model.Mahalanobis.Shrinkage:0.000}, digits' mean Mahalanobis percentile {meanPercentile:0.000}): ")
                + string.Join(", ", result.Auroc.Select(kv => string.Create(CultureInfo.InvariantCulture, $"{kv.Key}={kv.Value:0.0000}"))));
            foreach (var recommendation in RecommendationRanker.Rank(result.Scored, Server.Recommendations.RecommendationStrategy.Balanced, 3))
            {
                Console.WriteLine($"  {recommendation.Id}: {string.Join("; ", recommendation.Reasons)}");
            }
        }
    }

    private static TimeSpan _cpuAtStart;

    private static void Restart(Stopwatch stopwatch)
    {
        _cpuAtStart = Process.GetCurrentProcess().TotalProcessorTime;
        stopwatch.Restart();
    }

    // CPU seconds beside wall seconds: the build machine is shared, so wall time alone mostly measures the neighbours.
    private static void Report(string what, Stopwatch stopwatch)
    {
        var cpu = Process.GetCurrentProcess().TotalProcessorTime;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{stopwatch.Elapsed.TotalSeconds,8:0.000} s wall {(cpu - _cpuAtStart).TotalSeconds,8:0.000} s cpu  {what}"));
    }
}
