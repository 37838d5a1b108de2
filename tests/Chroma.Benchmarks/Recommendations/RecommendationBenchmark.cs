using System.Diagnostics;
using System.Globalization;
using Chroma.Server.Background;
using Chroma.Server.Indexing;
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
        var clock = Stopwatch.StartNew();
        var (trainEmbeddings, labels) = SyntheticEmbeddings.Clusters(classes, trainingCount / classes, d, 4, seed: 1);
        var (prodEmbeddings, prodLabels) = SyntheticEmbeddings.Clusters(classes, productionCount / classes, d, 4, seed: 2);
        var random = new Random(3);
        var probabilities = prodLabels.Select(_ =>
        {
            var p = Enumerable.Range(0, classes).Select(_ => (float)Math.Exp(3 * random.NextGaussian())).ToArray();
            return (float[]?)p;
        }).ToArray();
        var batch = new ProductionBatch(SyntheticEmbeddings.Ids(prodLabels.Length), prodEmbeddings, d, prodLabels, probabilities);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{clock.Elapsed.TotalSeconds,8:0.000} s       generated the data (not part of any timing below)"));

        // The engine alone, with every core (the server gives it Chroma:Scoring:Threads, cores - 1 by default); the
        // neighbour search is the server's: HNSW over the training rows, exact below 5,000 rows.
        using var limiter = new BackgroundWorkLimiter(Environment.ProcessorCount, "bench");
        var factory = HnswTrainingNeighborSearch.CreateFactory(5_000, limiter);
        var stopwatch = new Stopwatch();
        Restart(stopwatch);
        var model = RecommendationModel.Fit(new TrainingData(trainEmbeddings, d, labels), "bench", factory, limiter: limiter);
        Report($"fit: {model.FitDurations.FittedRows:N0} rows fitted, {model.FitDurations.HeldOutRows:N0} held out, {model.FitDurations.NeighborRows:N0} in the neighbour search", stopwatch);
        var f = model.FitDurations;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"           of which: means + Ledoit-Wolf + Cholesky {f.Covariance.TotalSeconds:0.000} s, neighbour search build {f.NeighborSearch.TotalSeconds:0.000} s ({model.NeighborSearch.GetType().Name}), calibration {f.Calibration.TotalSeconds:0.000} s"));

        Restart(stopwatch);
        limiter.For(0, batch.Count, RecommendationScorer.RecordsPerChunk, (start, end) =>
        {
            var buffer = new float[d];
            for (var i = start; i < end; i++)
            {
                UnitVectors.Normalize(batch.Row(i), buffer);
                model.NeighborSearch.Search(buffer, model.Options.NeighborCount);
            }
        });
        Report($"neighbour search only, {batch.Count:N0} queries over {model.NeighborLabels.Count:N0} training rows", stopwatch);

        Restart(stopwatch);
        limiter.For(0, batch.Count, RecommendationScorer.RecordsPerChunk, (start, end) =>
        {
            for (var i = start; i < end; i++)
            {
                model.Mahalanobis.Score(batch.Row(i));
            }
        });
        Report($"Mahalanobis only, {batch.Count:N0} records", stopwatch);

        // The production-shift classifier, as a pass fits it: up to 20,000 training rows and a uniform sample of at most
        // 20,000 production rows (here every k-th).
        var step = Math.Max(1, batch.Count / ProductionShift.MaxSampleRows);
        var sample = Enumerable.Range(0, batch.Count).Where(i => i % step == 0).Take(ProductionShift.MaxSampleRows)
            .Select(i => new ShiftSample(prodEmbeddings.AsMemory(i * d, d), probabilities[i], ProductionShiftClassifier.FoldOf(batch.Ids[i]))).ToArray();
        var training = new TrainingData(trainEmbeddings, d, labels);
        Restart(stopwatch);
        model = model.WithProductionShift(training, sample, 0, batch.Count, limiter: limiter);
        var shift = model.ProductionShift!;
        Report($"production-shift classifier: {shift.Classifier.TrainingRows:N0} training + {shift.Classifier.ProductionRows:N0} production rows, 5 folds (AUC {shift.Classifier.Auc:0.000}, joins {shift.Joins})", stopwatch);
        Restart(stopwatch);
        limiter.For(0, batch.Count, RecommendationScorer.RecordsPerChunk, (start, end) =>
        {
            for (var i = start; i < end; i++)
            {
                shift.Classifier.Score(batch.Row(i), probabilities[i], ProductionShiftClassifier.FoldOf(batch.Ids[i]));
            }
        });
        Report($"production-shift classifier only, {batch.Count:N0} records", stopwatch);

        // The same fit when half the production sample is shifted (moved by 0.5 along 16 of the d axes), so the
        // classifier has something to learn and early stopping does not end it early: the fit's slow case.
        var moved = new float[sample.Length * d];
        var shiftedSample = new ShiftSample[sample.Length];
        for (var i = 0; i < sample.Length; i++)
        {
            var row = moved.AsSpan(i * d, d);
            sample[i].Embedding.Span.CopyTo(row);
            if (i % 2 == 0)
            {
                foreach (ref var v in row[..Math.Min(16, d)])
                {
                    v += 0.5f;
                }
            }

            shiftedSample[i] = sample[i] with { Embedding = moved.AsMemory(i * d, d) };
        }

        Restart(stopwatch);
        var shiftedFit = model.WithProductionShift(training, shiftedSample, 0, batch.Count, limiter: limiter).ProductionShift!;
        Report($"production-shift classifier, half the production sample shifted: {shiftedFit.Classifier.TrainingRows:N0} + {shiftedFit.Classifier.ProductionRows:N0} rows (AUC {shiftedFit.Classifier.Auc:0.000}, joins {shiftedFit.Joins})", stopwatch);

        // The classifier's fit alone on that shifted sample with one network per fold (the default, scheme m5) and with
        // three averaged per fold (measured, not adopted), so the ensemble's cost is measured under the same load.
        ShiftSample[] fittedTraining = [.. model.FittedRows.Take(ProductionShift.MaxSampleRows)
            .Select(r => new ShiftSample(trainEmbeddings.AsMemory(r * d, d), null, ProductionShiftClassifier.FoldOfTrainingRow(r)))];
        foreach (var networks in new[] { ProductionShiftClassifier.DefaultNetworksPerFold, 3 })
        {
            Restart(stopwatch);
            var alone = ProductionShiftClassifier.Fit(fittedTraining, shiftedSample, d, model.Options.Seed, limiter, networks);
            Report($"production-shift classifier fit alone, half shifted, {networks} network(s) per fold: {alone.TrainingRows:N0} + {alone.ProductionRows:N0} rows (AUC {alone.Auc:0.000})", stopwatch);
        }

        var scorer = new IncrementalScorer(model);
        Restart(stopwatch);
        scorer.Add(batch, limiter);
        Report($"full pass: score all signals, {batch.Count:N0} records", stopwatch);

        var (newEmbeddings, newLabels) = SyntheticEmbeddings.Clusters(classes, 100, d, 4, seed: 4);
        var fresh = new ProductionBatch(SyntheticEmbeddings.Ids(newLabels.Length, "new"), newEmbeddings, d, newLabels);
        Restart(stopwatch);
        var added = scorer.Add(fresh, limiter);
        Report($"score {added:N0} new records incrementally", stopwatch);

        var snapshot = scorer.Snapshot();
        Restart(stopwatch);
        var ranked = RecommendationRanker.Rank(snapshot, Server.Recommendations.RecommendationStrategy.Balanced, 20);
        Report($"rank top {ranked.Count} of {snapshot.Count:N0} (pool 1000, duplicates, k-center)", stopwatch);
        Restart(stopwatch);
        var labeling = RecommendationRanker.Rank(snapshot, Server.Recommendations.RecommendationStrategy.Labeling, 200);
        Report($"labeling list: first {labeling.Count} of {snapshot.Count:N0} (greedy k-medians over the in-distribution candidates, training rows as picks already made)", stopwatch);
        var labelingScores = snapshot.Select(r => SignalCombiner.Score(r, Server.Recommendations.RecommendationStrategy.Labeling)).ToArray();
        Restart(stopwatch);
        var plain = LabelingSelector.Select(snapshot, labelingScores, 200, new RecommendationOptions(), coverTraining: false);
        Report($"labeling list without training coverage (plain k-medians, the order before): first {plain.Count}", stopwatch);

        Restart(stopwatch);
        var drift = MmdDriftDetector.Measure(trainEmbeddings, prodEmbeddings, d, limiter: limiter);
        Report(string.Create(CultureInfo.InvariantCulture, $"MMD drift 500 vs 500, 200 permutations (MMD2={drift.Mmd2:0.0000}, p={drift.PValue:0.000})"), stopwatch);
        using var process = Process.GetCurrentProcess();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"peak working set {process.PeakWorkingSet64 / (1024.0 * 1024.0):N0} MiB (whole process: data, model, scores); managed heap now {GC.GetTotalMemory(false) / (1024.0 * 1024.0):N0} MiB"));
        GC.KeepAlive(scorer);

        // Last, so its exact-scan copy of the training rows is not in the peak above.
        NeighbourRecall(model, new TrainingData(trainEmbeddings, d, labels), batch, limiter);
    }

    // recall@k of the neighbour search against an exact scan of the same rows (every training row, or the sample), on
    // 200 production queries.
    private static void NeighbourRecall(RecommendationModel model, TrainingData training, ProductionBatch batch, BackgroundWorkLimiter limiter)
    {
        if (model.NeighborSearch is BruteForceNeighborSearch)
        {
            return;
        }

        var stopwatch = Stopwatch.StartNew();
        var k = model.Options.NeighborCount;
        var d = training.Dimension;
        var exact = new BruteForceNeighborSearch(UnitVectors.NormalizeRows(training, [.. model.NeighborRows], limiter), d, NeighborMetric.Cosine);
        const int queries = 200;
        var found = 0;
        var foundAgain = 0;
        var refined = 0;
        var second = model.NeighborRefinement;
        limiter.For(0, queries, 1, (first, end) =>
        {
            var query = new float[d];
            for (var q = first; q < end; q++)
            {
                UnitVectors.Normalize(batch.Row(q * (batch.Count / queries)), query);
                var once = model.NeighborSearch.Search(query, k);
                var approximate = once.Select(n => n.TrainingIndex).ToHashSet();
                var truth = exact.Search(query, k).Select(n => n.TrainingIndex).ToArray();
                Interlocked.Add(ref found, truth.Count(approximate.Contains));
                if (second is not null && second.Applies(NeighborSignals.From(once, model.NeighborLabels, predictedClass: null)))
                {
                    Interlocked.Increment(ref refined);
                }

                var again = second?.Search.Search(query, k).Select(n => n.TrainingIndex).ToHashSet() ?? approximate;
                Interlocked.Add(ref foundAgain, truth.Count(again.Contains));
            }
        });

        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"           recall@{k} of the neighbour search vs an exact scan of its {model.NeighborRows.Count:N0} rows, {queries} queries: {found / (double)(queries * k):0.000} ({stopwatch.Elapsed.TotalSeconds:0.0} s to check)"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"           second search for the neighbour signals' tail ({second?.Search.GetType().Name ?? "none"}): recall@{k} {foundAgain / (double)(queries * k):0.000}; {refined} of the {queries} queries in the tail"));
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
