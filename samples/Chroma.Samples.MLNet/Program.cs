// Trains a digit classifier on 6,000 MNIST images with Chroma capturing Fit, then scores a production stream of the
// other 4,000 digits mixed with notMNIST letters through a captured PredictionEngine, and asks the server what it
// holds, which training digits the letters resemble and which inputs it recommends labelling first, with reasons.
// Usage: Chroma.Samples.MLNet [server-endpoint]; without an endpoint an embedded server is started on a free port.
using System.Diagnostics;
using Chroma;
using Chroma.Samples.Shared;
using Chroma.Samples.MLNet;
using Chroma.Server.Hosting;
using Microsoft.ML;
using Microsoft.ML.Transforms;
using Spectre.Console;

const int TrainingCount = 6_000;
const int LetterCount = 1_000;
const int EmbeddingDimension = 32;
var flushTimeout = TimeSpan.FromSeconds(30);
var clock = Stopwatch.StartNew();

var dataDirectory = DigitData.FindDataDirectory();
var mnist = DigitData.Load(dataDirectory, "mnist", letters: false);
var letters = DigitData.Load(dataDirectory, "notmnist", letters: true).Take(LetterCount).ToList();

// The only server-dependent part: an embedded server unless an endpoint is given.
var endpoint = args.Length > 0 ? new Uri(args[0]) : null;
// Declared before the server, so the server is disposed (its files closed) before the folder is deleted.
using var storage = new TemporaryDataDirectory("mlnet-sample");
await using var server = endpoint is null
    ? await ChromaServer.StartAsync(new ChromaServerOptions { Host = "127.0.0.1", Port = 0, DataDirectory = storage.FullPath })
    : null;
await using var client = new ChromaClient(endpoint ?? server!.Endpoint);
AnsiConsole.MarkupLine(server is null
    ? $"Chroma server: [blue]{client.Endpoint}[/]"
    : $"Chroma server: [blue]{client.Endpoint}[/] (embedded), data in {Markup.Escape(storage.FullPath)} (deleted at exit)");

string[] classNames = [.. Enumerable.Range(0, 10).Select(d => d.ToString(System.Globalization.CultureInfo.InvariantCulture))];
var set = client.GetEmbeddingSet(new EmbeddingSetDescriptor("mnist-pca-sdca", "1", "pca32", EmbeddingDimension), classNames);

// Sorting the keys by value makes the Score slots follow classNames ("0".."9").
var ml = new MLContext(seed: 1);
var pipeline = ml.Transforms.Conversion.MapValueToKey("Label", keyOrdinality: ValueToKeyMappingEstimator.KeyOrdinality.ByValue)
    .Append(ml.Transforms.ProjectToPrincipalComponents("Embedding", "Pixels", rank: EmbeddingDimension, seed: 1))
    .Append(ml.Transforms.NormalizeMeanVariance("Features", "Embedding"))
    .Append(ml.MulticlassClassification.Trainers.SdcaMaximumEntropy("Label", "Features", maximumNumberOfIterations: 30))
    .Append(ml.Transforms.Conversion.MapKeyToValue("PredictedLabel"));

// Training capture: Fit logs each training row's PCA embedding with its label.
var trainingData = ml.Data.LoadFromEnumerable(mnist.Take(TrainingCount));
ITransformer model = null!;
AnsiConsole.Status().Start($"Training on {TrainingCount:N0} MNIST digits...", _ =>
    model = pipeline.WithChroma(set, o =>
    {
        o.EmbeddingColumn = "Embedding";
        o.InputUriColumn = nameof(DigitImage.Uri);
    }).Fit(trainingData));
await client.FlushAsync().WaitAsync(flushTimeout);
AnsiConsole.MarkupLine($"Trained and logged the training set in {clock.Elapsed.TotalSeconds:F1} s.");

// Production capture: the engine is called exactly as before; each prediction is logged with its embedding.
var mnistSource = new Dictionary<string, string> { ["source"] = "mnist" };
var letterSource = new Dictionary<string, string> { ["source"] = "notmnist" };
using var engine = ml.Model.CreatePredictionEngine<DigitImage, DigitPrediction>(model).WithChroma(set, o =>
{
    o.Embedding = (_, prediction) => prediction.Embedding;
    o.InputUri = (image, _) => image.Uri;
    o.Metadata = (image, _) => image.Source == "mnist" ? mnistSource : letterSource;
});

var random = new Random(1);
var production = mnist.Skip(TrainingCount).Concat(letters).OrderBy(_ => random.Next()).ToList();
var correctDigits = 0;
var sampleLetters = new List<(DigitImage Image, DigitPrediction Prediction)>();
AnsiConsole.Progress().Start(progress =>
{
    var task = progress.AddTask($"Scoring {production.Count:N0} production images", maxValue: production.Count);
    foreach (var image in production)
    {
        var prediction = engine.Predict(image);
        if (image.Source == "mnist" && prediction.PredictedLabel == image.Label)
        {
            correctDigits++;
        }
        else if (image.Source == "notmnist" && sampleLetters.Count < 3)
        {
            sampleLetters.Add((image, prediction));
        }

        task.Increment(1);
    }
});
await client.FlushAsync().WaitAsync(flushTimeout);
AnsiConsole.MarkupLine($"Accuracy on the {mnist.Count - TrainingCount:N0} production digits: [green]{100.0 * correctDigits / (mnist.Count - TrainingCount):F1}%[/]");

var counts = new Table().AddColumns("set", "dataset", "records");
foreach (var info in await client.ListSetsAsync())
{
    foreach (var dataset in info.Datasets)
    {
        counts.AddRow(info.SetId, dataset.Dataset, dataset.Count.ToString("N0", System.Globalization.CultureInfo.InvariantCulture));
    }
}

AnsiConsole.Write(counts);

var neighbours = new Table().AddColumns("production letter", "predicted digit", "nearest training digits (distance)");
foreach (var (image, prediction) in sampleLetters)
{
    var nearest = await client.FindNearestAsync(set.Descriptor.Id, prediction.Embedding, k: 5, dataset: ChromaDatasets.Training);
    neighbours.AddRow(
        $"{image.Label} ({image.Uri})",
        prediction.PredictedLabel,
        string.Join(", ", nearest.Select(n => $"{n.Record.Label} ({n.Distance:F1})")));
}

AnsiConsole.Write(neighbours);
await RecommendationsTable.ShowAsync(client, set);

var stats = client.Statistics;
AnsiConsole.MarkupLine($"Client: {stats.Exported:N0} exported, {stats.Dropped:N0} dropped, {client.CaptureErrorCount} capture errors; {clock.Elapsed.TotalSeconds:F1} s in all.");
return 0;
