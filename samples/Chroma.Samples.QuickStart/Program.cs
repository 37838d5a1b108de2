// Chroma quick start: logs real MNIST digits as training data, digits and notMNIST letters as production data, then asks
// the server what it holds, which training records lie nearest to a few production inputs, and which production
// inputs it recommends looking at first, and why.
// Usage: dotnet run --project samples/Chroma.Samples.QuickStart [-- http://host:port]
// With no endpoint it starts an embedded server with a temporary data directory.
using System.Diagnostics;
using System.Globalization;
using Chroma;
using Chroma.Samples.Shared;
using Chroma.Server.Hosting;

const int TrainingCount = 3_000;
const int ProductionDigits = 500;
const int ProductionLetters = 500;

var dataDirectory = IdxImages.FindDataDirectory();
var mnist = IdxImages.Load(dataDirectory, "mnist-t10k");
var letters = IdxImages.Load(dataDirectory, "notmnist-t10k");

ChromaServer? server = null;
var storage = Path.Combine(Path.GetTempPath(), "chroma-quickstart-" + Guid.NewGuid().ToString("N")[..8]);
Uri endpoint;
if (args.Length > 0)
{
    endpoint = new Uri(args[0]);
}
else
{
    server = await ChromaServer.StartAsync(new ChromaServerOptions { Host = "127.0.0.1", Port = 0, DataDirectory = storage });
    endpoint = server.Endpoint;
    Console.WriteLine($"Started an embedded Chroma server at {endpoint} (data in {storage}).");
    if (server.WebEndpoint is { } studio)
    {
        Console.WriteLine($"Chroma Studio (web app): {studio}");
    }
}

try
{
    await using var chroma = new ChromaClient(new ChromaClientOptions { Endpoint = endpoint, FlushInterval = TimeSpan.FromMilliseconds(50) });
    var set = chroma.GetEmbeddingSet(new EmbeddingSetDescriptor("mnist-pixels", "1", "input", dimension: 784));

    var stopwatch = Stopwatch.StartNew();
    for (var i = 0; i < TrainingCount; i++)
    {
        set.LogTraining(mnist.Pixels[i], label: Digit(mnist.Labels[i]), inputUri: $"mnist/t10k/{i}", metadata: PngPreview.Metadata(mnist.Pixels[i]));
    }

    for (var i = 0; i < ProductionDigits; i++)
    {
        var row = TrainingCount + i;
        set.LogProduction(mnist.Pixels[row], inputUri: $"mnist/t10k/{row}", metadata: PngPreview.Metadata(mnist.Pixels[row]));
    }

    for (var i = 0; i < ProductionLetters; i++)
    {
        set.LogProduction(letters.Pixels[i], inputUri: $"notmnist/t10k/{i}", metadata: PngPreview.Metadata(letters.Pixels[i]));
    }

    await chroma.FlushAsync().WaitAsync(TimeSpan.FromMinutes(2));
    stopwatch.Stop();
    var stats = chroma.Statistics;
    Console.WriteLine($"Logged {stats.Received:N0} records in {stopwatch.Elapsed.TotalSeconds:F2} s: exported {stats.Exported:N0}, dropped {stats.Dropped:N0}, failed {stats.Failed:N0}.");

    Console.WriteLine();
    Console.WriteLine("What the server holds:");
    foreach (var info in await chroma.ListSetsAsync())
    {
        var datasets = string.Join(", ", info.Datasets.Select(d => $"{d.Dataset} {d.Count:N0}"));
        Console.WriteLine($"  {info.SetId} (dimension {info.Descriptor.Dimension}): {datasets}");
    }

    Console.WriteLine();
    Console.WriteLine("Nearest training neighbours (k = 5) of a few production inputs:");
    var digitDistances = new List<double>();
    var letterDistances = new List<double>();
    var samples = new (string Uri, float[] Pixels, bool Letter)[]
    {
        ($"mnist/t10k/{TrainingCount}", mnist.Pixels[TrainingCount], false),
        ($"mnist/t10k/{TrainingCount + 1}", mnist.Pixels[TrainingCount + 1], false),
        ($"mnist/t10k/{TrainingCount + 2}", mnist.Pixels[TrainingCount + 2], false),
        ("notmnist/t10k/0", letters.Pixels[0], true),
        ("notmnist/t10k/1", letters.Pixels[1], true),
        ("notmnist/t10k/2", letters.Pixels[2], true),
    };
    foreach (var (uri, pixels, letter) in samples)
    {
        var neighbours = await chroma.FindNearestAsync(set.Descriptor.Id, pixels, k: 5, dataset: ChromaDatasets.Training);
        var mean = neighbours.Average(n => n.Distance);
        (letter ? letterDistances : digitDistances).Add(mean);
        var labels = string.Join(" ", neighbours.Select(n => n.Record.Label));
        Console.WriteLine($"  {uri,-18} neighbours' labels: {labels,-10} mean squared distance {mean,7:F1}");
    }

    Console.WriteLine();
    Console.WriteLine($"Summary: {stats.Exported:N0} records stored; letters sit {letterDistances.Average() / digitDistances.Average():F1}x farther from the training digits than digits do.");

    // The server scores production data in the background after each ingest; wait until it has caught up.
    var top = await chroma.WaitForRecommendationsAsync(
        set.Descriptor.Id, ProductionDigits + ProductionLetters, TimeSpan.FromMinutes(2), new RecommendationQuery { PageSize = 5 });
    Console.WriteLine();
    Console.WriteLine($"Top recommendations of {top.ScoredRecords:N0} scored production inputs (look at or label these first):");
    foreach (var item in top.Items)
    {
        Console.WriteLine($"  {item.Record.InputUri,-18} score {item.Score,5:F1}: {string.Join("; ", item.Reasons)}");
    }
}
finally
{
    if (server is not null)
    {
        await server.DisposeAsync();
        TryDelete(storage);
    }
}

static string Digit(byte label) => label.ToString(CultureInfo.InvariantCulture);

static void TryDelete(string directory)
{
    try
    {
        Directory.Delete(directory, recursive: true);
    }
    catch (IOException)
    {
        // A file still held open: leave the temporary folder behind.
    }
}
