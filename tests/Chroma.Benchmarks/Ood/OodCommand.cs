using System.Diagnostics;
using System.Globalization;
using Chroma.Samples.TorchSharp;
using Chroma.Server.Hosting;
using Chroma.TorchSharp;

namespace Chroma.Benchmarks.Ood;

/// <summary>
/// The out-of-distribution evaluation (issue item 7), end to end through the real client and server:
/// train the TorchSharp MNIST MLP on the first 6,000 MNIST test digits, log them as training, log the
/// other 4,000 digits plus 4,000 notMNIST letters as production, wait for the server's background
/// scoring, read every record's scores back through the query API and report AUROC per signal and
/// for the combined ranking, next to two anchors computed here on the same (stored) embeddings:
/// maximum softmax probability and the original Chroma's raw-inverse Mahalanobis.
/// <code>dotnet run -c Release --project tests/Chroma.Benchmarks -- ood [--data samples/data] [--epochs 4] [--metric cosine|l2]</code>
/// <c>--metric</c> is the set's metric (default cosine), which the neighbour signals (knn_distance, boundary) use.
/// </summary>
internal static class OodCommand
{
    private static readonly TimeSpan ScoringTimeout = TimeSpan.FromMinutes(10);

    public static async Task<int> RunAsync(string[] args)
    {
        var epochs = int.Parse(Option(args, "--epochs") ?? "4", CultureInfo.InvariantCulture);
        var metric = (Option(args, "--metric") ?? "cosine") switch
        {
            "cosine" => DistanceMetric.Cosine,
            "l2" => DistanceMetric.L2,
            var other => throw new ArgumentException($"--metric must be cosine or l2 (got '{other}')"),
        };
        var data = SampleData.Load(SampleData.FindDirectory(Option(args, "--data")));
        var production = LabelledImages.Mix(data.HeldOutDigits, data.Letters, seed: 42);
        var dataDirectory = Path.Combine(Path.GetTempPath(), "chroma-ood-" + Guid.NewGuid().ToString("N")[..8]);
        var clock = Stopwatch.StartNew();
        Console.WriteLine($"cores={Environment.ProcessorCount} training={data.Training.Count} production={production.Count} epochs={epochs} metric={metric}");

        await using var server = await ChromaServer.StartAsync(new ChromaServerOptions { Host = "127.0.0.1", Port = 0, DataDirectory = dataDirectory });
        await using var client = new ChromaClient(new ChromaClientOptions { Endpoint = server.Endpoint, QueueCapacity = 20_000 });
        var set = client.GetEmbeddingSet(
            new EmbeddingSetDescriptor("mnist-mlp", "ood-eval", "fc2", MnistMlp.EmbeddingWidth) { Metric = metric },
            [.. Enumerable.Range(0, 10).Select(d => d.ToString(CultureInfo.InvariantCulture))]);

        using var model = new MnistMlp(seed: 1);
        var trainer = new MnistTrainer(model);
        for (var epoch = 1; epoch <= epochs; epoch++)
        {
            var loss = trainer.TrainEpoch(data.Training, epoch);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"epoch {epoch}: loss {loss:0.000}"));
        }

        var trained = clock.Elapsed;
        int[] predictions;
        using (var capture = model.CaptureWithChroma(set, model.Penultimate))
        {
            trainer.Predict(data.Training, (start, count) => capture.Training(data.Training.LabelTensor(start, count), Slice(data.Training.InputUris, start, count)));
            predictions = trainer.Predict(production, (start, count) => capture.Production(Slice(production.InputUris, start, count)));
        }

        using (var flushTimeout = new CancellationTokenSource(TimeSpan.FromSeconds(120)))
        {
            await client.FlushAsync(flushTimeout.Token);
        }

        var logged = clock.Elapsed;
        var status = await client.WaitForRecommendationsAsync(set.Descriptor.Id, production.Count, ScoringTimeout);
        var scored = clock.Elapsed;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"delivered {client.Statistics.Exported:N0}, dropped {client.Statistics.Dropped:N0}; scored {status.ScoredRecords:N0}, pending {status.PendingRecords:N0}"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"train {trained.TotalSeconds:0.0} s, capture + deliver {(logged - trained).TotalSeconds:0.0} s, server scoring caught up after {(scored - logged).TotalSeconds:0.0} s"));

        var digitRows = Enumerable.Range(0, production.Count)
            .Where(i => production.InputUris[i].StartsWith(SampleData.DigitSource, StringComparison.Ordinal)).ToArray();
        var accuracy = digitRows.Count(i => predictions[i] == production.Labels[i]) / (double)digitRows.Length;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"accuracy on the {digitRows.Length:N0} production digits: {accuracy:P1}"));

        var evaluation = await EvaluateAsync(client, set.Descriptor.Id, production, predictions);
        Console.WriteLine();
        evaluation.Write(Console.Out);
        Console.WriteLine();
        var combined = evaluation.LetterAuroc("combined (balanced)");
        var softmax = evaluation.LetterAuroc("anchor: max softmax probability");
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"goal: combined OOD AUROC >= 0.99 and above max-softmax: {(combined >= 0.99 && combined > softmax ? "met" : "NOT met")} ({combined:0.0000} vs {softmax:0.0000})"));

        await PrintTopAsync(client, set.Descriptor.Id);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"total {clock.Elapsed.TotalSeconds:0.0} s"));
        return 0;
    }

    private static async Task<OodEvaluation> EvaluateAsync(ChromaClient client, string setId, LabelledImages production, int[] predictions)
    {
        // Ground truth per input URI: letters come from notMNIST; a digit is a mistake when the prediction differs.
        var truth = new Dictionary<string, (bool Letter, bool Mistake)>(StringComparer.Ordinal);
        for (var i = 0; i < production.Count; i++)
        {
            var letter = production.InputUris[i].StartsWith(SampleData.LetterSource, StringComparison.Ordinal);
            truth[production.InputUris[i]] = (letter, !letter && predictions[i] != production.Labels[i]);
        }

        var training = await ReadAllAsync(client, setId, ChromaDatasets.Training);
        var stored = await ReadAllAsync(client, setId, ChromaDatasets.Production);
        var order = stored.Select((r, i) => (r.Id, i)).ToDictionary(p => p.Id, p => p.i, StringComparer.Ordinal);
        var evaluation = new OodEvaluation(
            [.. stored.Select(r => truth[r.InputUri!].Letter)],
            [.. stored.Select(r => truth[r.InputUri!].Mistake)]);

        var balanced = await ScoresAsync(client, setId, RecommendationStrategy.Balanced);
        var outOfDistribution = await ScoresAsync(client, setId, RecommendationStrategy.OutOfDistribution);
        var uncertainty = await ScoresAsync(client, setId, RecommendationStrategy.Uncertainty);
        foreach (var signal in new[] { "mahalanobis", "relative_mahalanobis", "knn_distance", "feature_norm", "boundary", "entropy", "margin", "least_confidence", "production_shift" })
        {
            evaluation.Add("signal: " + signal, Column(stored.Count, order, balanced, r => r.Signal(signal)?.Value ?? double.NaN));
        }

        evaluation.Add("combined (balanced)", Column(stored.Count, order, balanced, r => r.Score));
        evaluation.Add("combined (out_of_distribution)", Column(stored.Count, order, outOfDistribution, r => r.Score));
        evaluation.Add("combined (uncertainty)", Column(stored.Count, order, uncertainty, r => r.Score));
        evaluation.Add("anchor: max softmax probability", [.. stored.Select(r => 1.0 - MaxOf(r.ClassProbabilities.Span))]);
        var raw = new RawInverseMahalanobis([.. training.Select(r => r.Embedding.ToArray())], [.. training.Select(r => r.Label!)]);
        evaluation.Add("anchor: raw-inverse Mahalanobis (original Chroma)", [.. stored.Select(r => raw.Score(r.Embedding.ToArray()))]);
        Console.WriteLine($"raw-inverse anchor: {raw.SkippedClasses} classes skipped (fewer samples than dimensions), {raw.PseudoInverses} needed the pseudo-inverse");
        return evaluation;
    }

    private static async Task PrintTopAsync(ChromaClient client, string setId)
    {
        // Diversity must not dilute: the served top 100 should keep >= 90% of the letter share of plain score order.
        var plain = new List<ChromaRecommendation>();
        await foreach (var item in client.GetAllScoresAsync(setId))
        {
            plain.Add(item);
        }

        var plainLetters = plain.Take(100).Count(i => i.Record.InputUri!.StartsWith(SampleData.LetterSource, StringComparison.Ordinal));
        ChromaRecommendation[] top = [];
        foreach (var diversity in new[] { RecommendationDiversity.Off, RecommendationDiversity.Default, RecommendationDiversity.Strong })
        {
            var page = await client.GetRecommendationsAsync(setId, new RecommendationQuery { PageSize = 100, Diversity = diversity });
            var letters = page.Items.Count(i => i.Record.InputUri!.StartsWith(SampleData.LetterSource, StringComparison.Ordinal));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"served top 100 (balanced, diversity {diversity}): {letters} letters vs {plainLetters} in plain score order ({(plainLetters == 0 ? 1 : letters / (double)plainLetters):P0} kept, goal >= 90%); deepest score rank {page.Items.Max(i => i.ScoreRank)}"));
            if (diversity == RecommendationDiversity.Default)
            {
                top = [.. page.Items];
            }
        }

        Console.WriteLine("top 10 recommendations:");
        foreach (var (item, rank) in top.Take(10).Select((item, i) => (item, i + 1)))
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{rank,2}. {item.Record.InputUri} (predicted {item.Record.PredictedClass}, score {item.Score:0.00}, {item.DuplicateIds.Count} near-duplicates): {string.Join("; ", item.Reasons)}"));
        }
    }

    private static async Task<List<ChromaRecord>> ReadAllAsync(ChromaClient client, string setId, string dataset)
    {
        var records = new List<ChromaRecord>();
        var query = new RecordQuery { Dataset = dataset, IncludeEmbeddings = true, PageSize = 1000 };
        do
        {
            var page = await client.GetRecordsAsync(setId, query);
            records.AddRange(page.Records);
            query.PageToken = page.NextPageToken;
        }
        while (query.PageToken is not null);

        return records;
    }

    private static async Task<List<ChromaRecommendation>> ScoresAsync(ChromaClient client, string setId, RecommendationStrategy strategy)
    {
        var scores = new List<ChromaRecommendation>();
        await foreach (var item in client.GetAllScoresAsync(setId, strategy))
        {
            scores.Add(item);
        }

        return scores;
    }

    private static double[] Column(int count, Dictionary<string, int> order, List<ChromaRecommendation> scores, Func<ChromaRecommendation, double> value)
    {
        var column = new double[count];
        Array.Fill(column, double.NaN);
        foreach (var item in scores)
        {
            column[order[item.Record.Id]] = value(item);
        }

        return column.Any(double.IsNaN)
            ? throw new InvalidOperationException("a production record has no score (or lacks the signal); did scoring finish?")
            : column;
    }

    private static double MaxOf(ReadOnlySpan<float> values)
    {
        var max = 0f;
        foreach (var v in values)
        {
            max = Math.Max(max, v);
        }

        return max;
    }

    private static string? Option(string[] args, string name)
    {
        var index = Array.IndexOf(args, name);
        return index >= 0 && index + 1 < args.Length ? args[index + 1] : null;
    }

    private static string[] Slice(IReadOnlyList<string> values, int start, int count) => [.. values.Skip(start).Take(count)];
}
