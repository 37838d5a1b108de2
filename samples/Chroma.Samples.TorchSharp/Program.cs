// Trains a small digit classifier with TorchSharp, captures its 128-wide penultimate layer with Chroma (training
// data with labels, then production traffic mixing unseen digits with notMNIST letters), and prints what the
// Chroma server holds and what it recommends labelling first, with reasons; then one round of the labeling loop
// (recommend with the labeling strategy, label 200 inputs from the ground truth, promote, retrain, accuracy before and
// after). With no --endpoint it starts an embedded server in a temporary folder.
//
//   dotnet run --project samples/Chroma.Samples.TorchSharp [-- --endpoint http://localhost:50051] [--epochs 4] [--data samples/data]
using System.Diagnostics;
using Chroma;
using Chroma.Samples.Shared;
using Chroma.Samples.TorchSharp;
using Chroma.Server.Hosting;
using Chroma.TorchSharp;
using Spectre.Console;

var endpoint = Option(args, "--endpoint") is { } text ? new Uri(text) : null;
var epochs = int.Parse(Option(args, "--epochs") ?? "4", System.Globalization.CultureInfo.InvariantCulture);
var clock = Stopwatch.StartNew();

var data = SampleData.Load(SampleData.FindDirectory(Option(args, "--data")));
var production = LabelledImages.Mix(data.HeldOutDigits, data.Letters, seed: 42);

// Declared before the server, so the server is disposed (its files closed) before the folder is deleted.
using var storage = new TemporaryDataDirectory("torchsharp-sample");
await using var server = endpoint is null
    ? await ChromaServer.StartAsync(new ChromaServerOptions { Host = "127.0.0.1", Port = 0, DataDirectory = storage.FullPath })
    : null;
// The whole run (14,000 rows) may be captured faster than it is delivered: give the queue room for all of it, so
// nothing is dropped (a smaller queue would drop and count the overflow; see client.Statistics).
await using var client = new ChromaClient(new ChromaClientOptions { Endpoint = endpoint ?? server!.Endpoint, QueueCapacity = 20_000 });
AnsiConsole.MarkupLine(server is null
    ? $"Chroma server: [bold]{endpoint}[/]"
    : $"Embedded Chroma server: [bold]{server.Endpoint}[/], data in {Markup.Escape(storage.FullPath)} (deleted at exit)");

var digitNames = Enumerable.Range(0, 10).Select(d => d.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToArray();
var set = client.GetEmbeddingSet(new EmbeddingSetDescriptor("mnist-mlp", "1.0", "fc2", MnistMlp.EmbeddingWidth), digitNames);

using var model = new MnistMlp(seed: 1);
var trainer = new MnistTrainer(model);
int[] predictions = [];
using (var capture = model.CaptureWithChroma(set, model.Penultimate))
{
    AnsiConsole.Progress()
        .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
        .Start(ctx =>
        {
            // Training steps run in train mode outside any capture scope, so they are not captured.
            for (var epoch = 1; epoch <= epochs; epoch++)
            {
                var task = ctx.AddTask($"train, epoch {epoch}/{epochs}", maxValue: trainer.BatchesIn(data.Training));
                var loss = trainer.TrainEpoch(data.Training, epoch, () => task.Increment(1));
                task.Description = $"train, epoch {epoch}/{epochs} (loss {loss:F3})";
            }

            // One pass over the training images with the final weights, logged as training data with their labels.
            var training = ctx.AddTask("capture training data", maxValue: trainer.BatchesIn(data.Training));
            trainer.Predict(
                data.Training,
                (start, count) => capture.Training(data.Training.LabelTensor(start, count), Slice(data.Training.InputUris, start, count)),
                () => training.Increment(1));

            // Production traffic: unseen digits and letters, logged as production data with prediction and probabilities.
            var serving = ctx.AddTask("serve production traffic", maxValue: trainer.BatchesIn(production));
            predictions = trainer.Predict(
                production,
                (start, count) => capture.Production(Slice(production.InputUris, start, count)),
                () => serving.Increment(1));
        });

    AnsiConsole.MarkupLine($"Captured [bold]{capture.CapturedRows:N0}[/] rows; capture problems: {client.CaptureErrorCount}.");
}

using (var flushTimeout = new CancellationTokenSource(TimeSpan.FromSeconds(60)))
{
    await client.FlushAsync(flushTimeout.Token);
}

var table = new Table().AddColumns("embedding set", "dimension", "datasets", "records");
foreach (var info in await client.ListSetsAsync())
{
    table.AddRow(
        info.SetId,
        info.Descriptor.Dimension.ToString(System.Globalization.CultureInfo.InvariantCulture),
        string.Join(", ", info.Datasets.Select(d => $"{d.Dataset}: {d.Count:N0}")),
        info.TotalRecords.ToString("N0", System.Globalization.CultureInfo.InvariantCulture));
}

AnsiConsole.Write(table);
var digitRows = Enumerable.Range(0, production.Count).Where(i => production.InputUris[i].StartsWith(SampleData.DigitSource, StringComparison.Ordinal)).ToArray();
var correct = digitRows.Count(i => predictions[i] == production.Labels[i]);
AnsiConsole.MarkupLine($"Accuracy on {digitRows.Length:N0} held-out digits: [bold]{100.0 * correct / digitRows.Length:F1}%[/]");
await RecommendationsTable.ShowAsync(client, set);
await LabelingRound.RunAsync(client, set, data.Training, production, predictions, budget: 200, epochs);

AnsiConsole.MarkupLine($"Delivered {client.Statistics.Exported:N0} records, dropped {client.Statistics.Dropped:N0}; {clock.Elapsed.TotalSeconds:F1} s in all.");
return 0;

static string? Option(string[] args, string name)
{
    var index = Array.IndexOf(args, name);
    return index >= 0 && index + 1 < args.Length ? args[index + 1] : null;
}

static string[] Slice(IReadOnlyList<string> values, int start, int count) => [.. values.Skip(start).Take(count)];
