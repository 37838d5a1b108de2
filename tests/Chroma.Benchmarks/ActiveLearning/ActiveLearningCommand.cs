using System.Diagnostics;
using System.Globalization;
using Chroma.Benchmarks.Ood;
using Chroma.Samples.TorchSharp;
using Chroma.Server.Background;
using Chroma.Server.Indexing;
using Chroma.Server.Recommendations;
using EngineStrategy = Chroma.Server.Recommendations.RecommendationStrategy;
using IdxReader = Chroma.Samples.TorchSharp.IdxReader;

namespace Chroma.Benchmarks.ActiveLearning;

/// <summary>
/// The label-efficiency benchmark (issue 13 item 7): a small MLP (<see cref="SmallMlp"/>, 784-64-32-10) trained on 1,000 digits; a production pool
/// of 6,000 other digits under a constructed shift (each rotated by a random angle in ±45° and shrunk by a random
/// factor in 0.7-1.0) plus 600 notMNIST letters (`--letters N` for another number); each strategy picks a budget of pool records, the picked digits get
/// their true labels (letters spend budget and are dropped), a fresh model of the same seed is trained on the 1,000 +
/// picked digits, and its accuracy is measured on 3,000 held-out digits under the same shift. Chroma's strategies go
/// through the server's scoring classes in process (<see cref="RecommendationModel"/>, <see cref="RecommendationRanker"/>)
/// on the first model's embeddings and probabilities, exactly as the server would serve them.
/// Seeds run from <c>--first-seed</c> on, so seeds can run in parallel processes (each prints every seed's accuracies).
/// <code>active-learning [--seeds 5] [--first-seed 1] [--budgets 50,100,200,400] [--epochs 20] [--shift rotate-scale] [--rounds] [--data samples/data]</code>
/// <c>--shift</c> picks another shift for the pool and the test set (<see cref="PoolShifts"/>); <c>--rounds</c> runs the
/// labeling loop instead of one ranking per strategy (<see cref="LabelingRounds"/>).
/// </summary>
internal static class ActiveLearningCommand
{
    public const string Usage = "[--seeds 5] [--first-seed 1] [--budgets 50,100,200,400] [--epochs 20] [--strategies a,b] [--shift rotate-scale|translate-noise|blur-contrast|none] [--rounds] [--data samples/data]   (label efficiency: accuracy after labeling each strategy's picks)";

    private const int InitialCount = 1_000;
    private const int PoolDigits = 6_000;
    private const int DefaultPoolLetters = 600;
    private const int TestCount = 3_000;

    public static int Run(CommandArguments args)
    {
        var seeds = args.Int("seeds", 5);
        var firstSeed = args.Int("first-seed", 1);
        var budgets = args.IntList("budgets", "50,100,200,400");
        var epochs = args.Int("epochs", 20);
        var only = args.Optional("strategies")?.Split(',');
        var shiftName = args.Optional("shift") ?? PoolShifts.Names[0];
        var poolLetters = args.Int("letters", DefaultPoolLetters);
        var rounds = args.Flag("rounds");
        var directory = SampleData.FindDirectory(args.Optional("data"));
        args.RejectUnknown();
        if (!PoolShifts.Names.Contains(shiftName))
        {
            Console.Error.WriteLine($"unknown --shift '{shiftName}'; expected one of {string.Join(", ", PoolShifts.Names)}");
            return 2;
        }

        var clock = Stopwatch.StartNew();
        var cpu = Process.GetCurrentProcess().TotalProcessorTime;

        var digits = GreyImages.From(
            IdxReader.ReadImages(Path.Combine(directory, "mnist-t10k-images-idx3-ubyte.gz")),
            IdxReader.ReadLabels(Path.Combine(directory, "mnist-t10k-labels-idx1-ubyte.gz")),
            SampleData.DigitSource);
        var letters = GreyImages.From(
            IdxReader.ReadImages(Path.Combine(directory, "notmnist-t10k-images-idx3-ubyte.gz")),
            IdxReader.ReadLabels(Path.Combine(directory, "notmnist-t10k-labels-idx1-ubyte.gz")),
            SampleData.LetterSource).Range(0, poolLetters);
        var initial = digits.Range(0, InitialCount);
        var shifted = PoolShifts.Apply(digits.Range(InitialCount, PoolDigits + TestCount), shiftName);
        var pool = GreyImages.Concat(shifted.Range(0, PoolDigits), letters);
        var isLetter = Enumerable.Range(0, pool.Count).Select(i => i >= PoolDigits).ToArray();
        var test = shifted.Range(PoolDigits, TestCount);
        var testImages = test.ToLabelled();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"cores={Environment.ProcessorCount} shift={shiftName} initial={initial.Count} pool={PoolDigits} shifted digits + {poolLetters} letters, test={test.Count} shifted digits, budgets={string.Join(",", budgets)}, seeds={seeds}, epochs={epochs}"));

        global::TorchSharp.torch.set_num_threads(1);
        using var limiter = new BackgroundWorkLimiter(Environment.ProcessorCount, "active-learning");
        var results = new Dictionary<(string Strategy, int Budget), List<(double Accuracy, int Letters)>>();
        var baseline = new List<double>();
        var names = new List<string>();
        for (var seed = firstSeed; seed < firstSeed + seeds; seed++)
        {
            using var model = Train(initial, [], epochs, seed);
            baseline.Add(Accuracy(model, testImages, test.Labels));
            if (rounds)
            {
                RunRounds(model, initial, pool, isLetter, testImages, test.Labels, budgets, epochs, seed, only, limiter, results, names);
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"seed {seed}: accuracy before labeling {baseline[^1]:P1}; {clock.Elapsed.TotalSeconds:0} s so far"));
                continue;
            }

            var trainingOutputs = model.Outputs(initial.ToLabelled());
            var poolOutputs = model.Outputs(pool.ToLabelled());
            var testOutputs = model.Outputs(testImages);
            var strategies = Strategies(initial, trainingOutputs, poolOutputs, testOutputs, seed, budgets.Max(), limiter, out var poolBeyond, out var testBeyond)
                .Concat(Ceilings(pool.Labels, poolOutputs.Predictions, seed))
                .Where(s => only is null ? !s.Name.StartsWith(CeilingPrefix, StringComparison.Ordinal) : only.Contains(s.Name))
                .OrderBy(s => only is null ? 0 : Array.IndexOf(only, s.Name))
                .ToList();
            foreach (var (name, pick) in strategies)
            {
                if (!names.Contains(name))
                {
                    names.Add(name);
                }

                foreach (var budget in budgets)
                {
                    var picks = pick(budget);
                    var labelled = picks.Where(i => !isLetter[i]).ToArray();
                    // No digit picked (only letters): the retrained model would be the first one again (same data, same seed).
                    var accuracy = baseline[^1];
                    // Where the picks and the errors are (diagnosis of blur-contrast): test accuracy on the test digits
                    // within the labeling distance allowance of the first model and beyond it.
                    double within, beyond;
                    if (labelled.Length > 0)
                    {
                        using var retrained = Train(initial, [.. labelled.Select(i => (pool, i))], epochs, seed);
                        accuracy = Accuracy(retrained, testImages, test.Labels);
                        var predictions = retrained.Outputs(testImages).Predictions;
                        (within, beyond) = (RegionAccuracy(predictions, test.Labels, testBeyond, false), RegionAccuracy(predictions, test.Labels, testBeyond, true));
                    }
                    else
                    {
                        (within, beyond) = (RegionAccuracy(testOutputs.Predictions, test.Labels, testBeyond, false), RegionAccuracy(testOutputs.Predictions, test.Labels, testBeyond, true));
                    }

                    if (!results.TryGetValue((name, budget), out var list))
                    {
                        results[(name, budget)] = list = [];
                    }

                    list.Add((accuracy, picks.Length - labelled.Length));
                    var perClass = new int[SmallMlp.Classes];
                    foreach (var i in labelled)
                    {
                        perClass[pool.Labels[i]]++;
                    }

                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"  seed {seed}, {name}, {budget} labels: accuracy {accuracy:0.0000}, letters picked {picks.Length - labelled.Length}, digits per class {string.Join("/", perClass)}, digits beyond the allowance picked {labelled.Count(i => poolBeyond[i])}, digits the first model got wrong picked {labelled.Count(i => poolOutputs.Predictions[i] != pool.Labels[i])}, test accuracy within / beyond the allowance {within:0.0000} / {beyond:0.0000}"));
                }
            }

            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"seed {seed}: accuracy before labeling {baseline[^1]:P1}; {clock.Elapsed.TotalSeconds:0} s so far"));
        }

        Console.WriteLine();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"accuracy on the shifted test digits before labeling: {baseline.Average():0.0000} ± {StandardDeviation(baseline):0.0000}"));
        Console.WriteLine();
        Console.WriteLine("| strategy | " + string.Join(" | ", budgets.Select(b => $"{b} labels")) + " | letters picked (of " + string.Join("/", budgets) + ") |");
        Console.WriteLine("|---|" + string.Concat(budgets.Select(_ => "---|")) + "---|");
        foreach (var name in names)
        {
            var cells = budgets.Select(b =>
            {
                var accuracies = results[(name, b)].Select(r => r.Accuracy).ToList();
                return string.Create(CultureInfo.InvariantCulture, $"{accuracies.Average():0.0000} ± {StandardDeviation(accuracies):0.0000}");
            });
            var lettersPicked = string.Join(" / ", budgets.Select(b => results[(name, b)].Average(r => r.Letters).ToString("0", CultureInfo.InvariantCulture)));
            Console.WriteLine($"| {name} | {string.Join(" | ", cells)} | {lettersPicked} |");
        }

        Console.WriteLine();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"total {clock.Elapsed.TotalSeconds:0} s wall, {(Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalSeconds:0} s CPU"));
        return 0;
    }

    private static List<(string Name, Func<int, int[]> Pick)> Strategies(
        GreyImages initial,
        (float[] Embeddings, float[][] Probabilities, int[] Predictions) training,
        (float[] Embeddings, float[][] Probabilities, int[] Predictions) pool,
        (float[] Embeddings, float[][] Probabilities, int[] Predictions) test,
        int seed,
        int maxBudget,
        BackgroundWorkLimiter limiter,
        out bool[] poolBeyond,
        out bool[] testBeyond)
    {
        const int d = SmallMlp.EmbeddingWidth;
        var labels = initial.Labels.Select(l => l.ToString(CultureInfo.InvariantCulture)).ToArray();
        var model = RecommendationModel.Fit(
            new TrainingData(training.Embeddings, d, labels) { Probabilities = training.Probabilities },
            "al",
            HnswTrainingNeighborSearch.CreateFactory(5_000, limiter),
            limiter: limiter);
        var poolCount = pool.Predictions.Length;
        var ids = Enumerable.Range(0, poolCount).Select(i => i.ToString(CultureInfo.InvariantCulture)).ToArray();
        var scored = RecommendationScorer.Score(
            model,
            new ProductionBatch(ids, pool.Embeddings, d, [.. pool.Predictions.Select(p => (string?)p.ToString(CultureInfo.InvariantCulture))], pool.Probabilities),
            limiter);
        var allowance = LabelingAllowance.Of(scored);
        var candidates = scored.Select((r, i) => (Letter: i >= PoolDigits, Candidate: allowance.Excess(r.Signals) <= 0)).Where(x => x.Candidate).ToList();
        var fixedCandidates = scored.Select((r, i) => (Letter: i >= PoolDigits, Candidate: SignalCombiner.LabelingDistanceExcess(r.Signals) <= 0)).Where(x => x.Candidate).ToList();
        poolBeyond = [.. scored.Select(r => SignalCombiner.LabelingDistanceExcess(r.Signals) > 0)];
        var testCount = test.Predictions.Length;
        var testScored = RecommendationScorer.Score(
            model,
            new ProductionBatch([.. Enumerable.Range(0, testCount).Select(i => "t" + i.ToString(CultureInfo.InvariantCulture))], test.Embeddings, d,
                [.. test.Predictions.Select(p => (string?)p.ToString(CultureInfo.InvariantCulture))], test.Probabilities),
            limiter);
        testBeyond = [.. testScored.Select(r => SignalCombiner.LabelingDistanceExcess(r.Signals) > 0)];
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"  seed {seed}: test digits beyond the fixed allowance {testBeyond.Count(b => b)} of {testCount}"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"  seed {seed}: within the fixed allowance (one in a thousand): {fixedCandidates.Count(c => !c.Letter)} of {PoolDigits} digits, {fixedCandidates.Count(c => c.Letter)} of {poolCount - PoolDigits} letters"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"  seed {seed}: labeling candidates (within the allowance measured against the pool: Mahalanobis {allowance.Mahalanobis:0.00}, kNN {allowance.KnnDistance:0.00}): {candidates.Count(c => !c.Letter)} of {PoolDigits} digits, {candidates.Count(c => c.Letter)} of {poolCount - PoolDigits} letters"));
        DescribeDistances(scored, PoolDigits, seed);
        var random = SelectionBaselines.Random(poolCount, maxBudget, seed);
        var entropy = SelectionBaselines.Entropy(pool.Probabilities);
        var margin = SelectionBaselines.Margin(pool.Probabilities);
        var coreset = SelectionBaselines.KCenter(
            UnitVectors.NormalizeRows(training.Embeddings, d, limiter), UnitVectors.NormalizeRows(pool.Embeddings, d, limiter), d, maxBudget);

        int[] Chroma(EngineStrategy strategy, int budget, Diversity diversity = Diversity.Default) =>
            [.. RecommendationRanker.Rank(scored, strategy, budget, diversity: diversity).Select(r => int.Parse(r.Id, CultureInfo.InvariantCulture))];

        var strategies = new List<(string, Func<int, int[]>)>
        {
            ("random", b => random[..b]),
            ("entropy", b => SelectionBaselines.Top(entropy, b)),
            ("margin", b => SelectionBaselines.Top(margin, b)),
            ("coreset (k-center)", b => coreset[..b]),
        };
        foreach (var strategy in Enum.GetValues<EngineStrategy>())
        {
            strategies.Add(("chroma " + strategy, b => Chroma(strategy, b)));
        }

        // A ceiling row (it reads which pool records are letters): the labeling list with every letter passed over, so the
        // budget goes to digits only. What a perfect exclusion of foreign inputs would add.
        strategies.Add((CeilingPrefix + "chroma Labeling with the letters skipped", b =>
            [.. Chroma(EngineStrategy.Labeling, Math.Min(poolCount, b + poolCount - PoolDigits)).Where(i => i < PoolDigits).Take(b)]));
        strategies.Add(("chroma Labeling, score order (diversity off)", b => Chroma(EngineStrategy.Labeling, b, Diversity.Off)));
        var labelingScores = scored.Select(r => SignalCombiner.Score(r, EngineStrategy.Labeling)).ToArray();
        strategies.Add(("chroma Labeling without training coverage", b =>
            [.. LabelingSelector.Select(scored, labelingScores, b, new RecommendationOptions(), coverTraining: false).Select(r => int.Parse(r.Id, CultureInfo.InvariantCulture))]));

        var poolUnits = UnitVectors.NormalizeRows(pool.Embeddings, d, limiter);
        var eligible = Enumerable.Range(0, poolCount).Where(i => SignalCombiner.LabelingDistanceExcess(scored[i].Signals) <= 0).ToArray();
        strategies.Add(("typiclust (in-distribution candidates)", b => SelectionBaselines.TypiClust(poolUnits, d, eligible, b, seed)));
        return strategies;
    }

    private const string CeilingPrefix = "ceiling: ";

    /// <summary>
    /// Diagnostic rows that read the pool's true labels, so they are no strategy a server could serve; they run only when
    /// named in <c>--strategies</c>. <c>every pool digit</c> labels all 6,000 shifted pool digits whatever the budget: the
    /// accuracy the labeled pool can give at most, to read a goal at 200 labels against. <c>the first model's errors
    /// first</c> picks the digits the first model got wrong, in a seeded random order, then the other digits: the
    /// best-informed version of uncertainty sampling. (<c>chroma Labeling with the letters skipped</c>, made with the
    /// strategies, is the third.)
    /// </summary>
    private static List<(string Name, Func<int, int[]> Pick)> Ceilings(int[] poolLabels, int[] firstPredictions, int seed)
    {
        var order = SelectionBaselines.Random(PoolDigits, PoolDigits, seed);
        var errorsFirst = order.Where(i => firstPredictions[i] != poolLabels[i]).Concat(order.Where(i => firstPredictions[i] == poolLabels[i])).ToArray();
        var everyDigit = Enumerable.Range(0, PoolDigits).ToArray();
        return
        [
            (CeilingPrefix + "every pool digit", _ => everyDigit),
            (CeilingPrefix + "the first model's errors first", b => errorsFirst[..b]),
        ];
    }

    /// <summary>One seed of the labeling loop in rounds (<see cref="LabelingRounds"/>).</summary>
    private static void RunRounds(
        SmallMlp first, GreyImages initial, GreyImages pool, bool[] isLetter, LabelledImages testImages, int[] testLabels, IReadOnlyList<int> budgets, int epochs, int seed,
        string[]? only, BackgroundWorkLimiter limiter, Dictionary<(string Strategy, int Budget), List<(double Accuracy, int Letters)>> results, List<string> names)
    {
        var strategies = LabelingRounds.Strategies(pool.Count, seed, limiter)
            .Where(s => only is null || only.Contains(s.Name))
            .OrderBy(s => only is null ? 0 : Array.IndexOf(only, s.Name))
            .ToList();
        var firstAccuracy = Accuracy(first, testImages, testLabels);
        foreach (var (name, pick) in strategies)
        {
            if (!names.Contains(name))
            {
                names.Add(name);
            }

            var picked = new List<int>();
            var isPicked = new bool[pool.Count];
            var current = first;
            var accuracy = firstAccuracy;
            foreach (var budget in budgets.Order())
            {
                var labelled = picked.Where(i => !isLetter[i]).ToArray();
                var training = labelled.Length == 0 ? initial : GreyImages.Concat(initial, Gather([.. labelled.Select(i => (pool, i))]));
                var state = new LabelingRounds.State(
                    current.Outputs(training.ToLabelled()), training.Labels, current.Outputs(pool.ToLabelled()), isPicked, [.. picked.Where(i => isLetter[i])]);
                foreach (var i in pick(state, budget - picked.Count))
                {
                    if (!isPicked[i])
                    {
                        isPicked[i] = true;
                        picked.Add(i);
                    }
                }

                labelled = [.. picked.Where(i => !isLetter[i])];
                if (labelled.Length > 0)
                {
                    var retrained = Train(initial, [.. labelled.Select(i => (pool, i))], epochs, seed);
                    accuracy = Accuracy(retrained, testImages, testLabels);
                    if (!ReferenceEquals(current, first))
                    {
                        current.Dispose();
                    }

                    current = retrained;
                }

                if (!results.TryGetValue((name, budget), out var list))
                {
                    results[(name, budget)] = list = [];
                }

                list.Add((accuracy, picked.Count - labelled.Length));
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"  seed {seed}, {name}, {budget} labels (rounds): accuracy {accuracy:0.0000}, letters picked {picked.Count - labelled.Length}"));
            }

            if (!ReferenceEquals(current, first))
            {
                current.Dispose();
            }
        }
    }

    private static SmallMlp Train(GreyImages initial, (GreyImages Images, int Index)[] extra, int epochs, int seed)
    {
        var images = extra.Length == 0 ? initial : GreyImages.Concat(initial, Gather(extra));
        return SmallMlp.Train(images.ToLabelled(), epochs, seed);
    }

    private static GreyImages Gather((GreyImages Images, int Index)[] picks)
    {
        var pixels = new float[picks.Length * GreyImages.Size];
        for (var i = 0; i < picks.Length; i++)
        {
            picks[i].Images.Image(picks[i].Index).CopyTo(pixels.AsSpan(i * GreyImages.Size));
        }

        return new GreyImages(pixels, [.. picks.Select(p => p.Images.Labels[p.Index])], [.. picks.Select(p => p.Images.Uris[p.Index])]);
    }

    private static double Accuracy(SmallMlp model, LabelledImages test, int[] labels)
    {
        var predictions = model.Outputs(test).Predictions;
        return Enumerable.Range(0, labels.Length).Count(i => predictions[i] == labels[i]) / (double)labels.Length;
    }

    /// <summary>Prints quantiles of the stronger distance surprise (Mahalanobis or kNN) of the pool's digits and letters.</summary>
    private static void DescribeDistances(IReadOnlyList<ScoredRecord> scored, int digits, int seed)
    {
        static double Stronger(ScoredRecord r) => Math.Max(r.Signal(SignalKind.Mahalanobis)?.Surprise ?? 0, r.Signal(SignalKind.KnnDistance)?.Surprise ?? 0);
        static string Quantiles(double[] sorted) => sorted.Length == 0 ? "-"
            : string.Join(" / ", new[] { 0.1, 0.25, 0.5, 0.75, 0.9 }.Select(q => sorted[(int)(q * (sorted.Length - 1))].ToString("0.00", CultureInfo.InvariantCulture)));
        var digitSurprises = scored.Take(digits).Select(Stronger).Order().ToArray();
        var letterSurprises = scored.Skip(digits).Select(Stronger).Order().ToArray();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"  seed {seed}: stronger distance surprise, quantiles 0.1 / 0.25 / 0.5 / 0.75 / 0.9: digits {Quantiles(digitSurprises)}, letters {Quantiles(letterSurprises)}"));
    }

    private static double RegionAccuracy(int[] predictions, int[] labels, bool[] beyond, bool region)
    {
        var members = Enumerable.Range(0, labels.Length).Where(i => beyond[i] == region).ToArray();
        return members.Length == 0 ? double.NaN : members.Count(i => predictions[i] == labels[i]) / (double)members.Length;
    }

    private static double StandardDeviation(List<double> values)
    {
        if (values.Count < 2)
        {
            return 0;
        }

        var mean = values.Average();
        return Math.Sqrt(values.Sum(v => (v - mean) * (v - mean)) / (values.Count - 1));
    }
}
