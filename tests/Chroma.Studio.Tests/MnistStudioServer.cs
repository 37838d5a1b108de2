using System.Globalization;
using System.Numerics.Tensors;
using Chroma.Samples.Shared;
using Chroma.Server.Hosting;

namespace Chroma.Studio.Tests;

/// <summary>
/// A real Chroma server (gRPC and Studio on free ports, a temporary data directory) holding real data: MNIST
/// digits as labelled training data, more digits and notMNIST letters as production data with the class a
/// nearest-centroid model predicts, all logged through the Chroma client.
/// </summary>
internal sealed class MnistStudioServer : IAsyncDisposable
{
    public static readonly EmbeddingSetDescriptor Descriptor = new("mnist-pixels", "1", "input", dimension: 784);

    private readonly string _directory;
    private readonly float[][] _centroids;

    private MnistStudioServer(ChromaServer server, ChromaClient client, string directory, IdxImages digits, IdxImages letters, float[][] centroids)
    {
        Server = server;
        Client = client;
        _directory = directory;
        Digits = digits;
        Letters = letters;
        _centroids = centroids;
        Set = client.GetEmbeddingSet(Descriptor);
    }

    public ChromaServer Server { get; }

    public ChromaClient Client { get; }

    public EmbeddingSet Set { get; }

    public IdxImages Digits { get; }

    public IdxImages Letters { get; }

    public Uri Studio => Server.WebEndpoint ?? throw new InvalidOperationException("Studio is off");

    public static async Task<MnistStudioServer> StartAsync(int training, int productionDigits, int productionLetters, string? apiKey = null)
    {
        var directory = Path.Combine(Path.GetTempPath(), "chroma-studio-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(directory);
        var server = await ChromaServer.StartAsync(new ChromaServerOptions
        {
            Host = "127.0.0.1",
            Port = 0,
            DataDirectory = directory,
            ApiKey = apiKey,
            Scoring = { Debounce = TimeSpan.FromMilliseconds(100) },
        }).WaitAsync(TimeSpan.FromSeconds(60));
        var data = IdxImages.FindDataDirectory();
        var digits = IdxImages.Load(data, "mnist-t10k");
        var letters = IdxImages.Load(data, "notmnist-t10k");
        var client = new ChromaClient(new ChromaClientOptions { Endpoint = server.Endpoint, ApiKey = apiKey, FlushInterval = TimeSpan.FromMilliseconds(20) });
        var fixture = new MnistStudioServer(server, client, directory, digits, letters, Centroids(digits, training));
        for (var i = 0; i < training; i++)
        {
            fixture.Set.LogTraining(digits.Pixels[i], label: Label(digits.Labels[i]), inputUri: $"mnist/t10k/{i}", metadata: PngPreview.Metadata(digits.Pixels[i]));
        }

        for (var i = 0; i < productionDigits; i++)
        {
            fixture.LogProductionDigit(training + i);
        }

        for (var i = 0; i < productionLetters; i++)
        {
            fixture.LogProductionLetter(i);
        }

        await client.FlushAsync().WaitAsync(TimeSpan.FromSeconds(60));
        return fixture;
    }

    public void LogProductionDigit(int row) =>
        Set.LogProduction(Digits.Pixels[row], predictedClass: Predict(Digits.Pixels[row]), inputUri: $"mnist/t10k/{row}", metadata: PngPreview.Metadata(Digits.Pixels[row]));

    public void LogProductionLetter(int row) =>
        Set.LogProduction(Letters.Pixels[row], predictedClass: Predict(Letters.Pixels[row]), inputUri: $"notmnist/t10k/{row}", metadata: PngPreview.Metadata(Letters.Pixels[row]));

    public async ValueTask DisposeAsync()
    {
        await Client.DisposeAsync();
        await Server.DisposeAsync();
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
            // A file still held by a closing handle: leave the temporary folder behind.
        }
    }

    private static string Label(byte label) => label.ToString(CultureInfo.InvariantCulture);

    private string Predict(float[] pixels)
    {
        var best = 0;
        for (var c = 1; c < _centroids.Length; c++)
        {
            if (TensorPrimitives.Distance(pixels, _centroids[c]) < TensorPrimitives.Distance(pixels, _centroids[best]))
            {
                best = c;
            }
        }

        return Label((byte)best);
    }

    private static float[][] Centroids(IdxImages digits, int training)
    {
        var sums = Enumerable.Range(0, 10).Select(_ => new float[784]).ToArray();
        var counts = new int[10];
        for (var i = 0; i < training; i++)
        {
            TensorPrimitives.Add(sums[digits.Labels[i]], digits.Pixels[i], sums[digits.Labels[i]]);
            counts[digits.Labels[i]]++;
        }

        for (var c = 0; c < 10; c++)
        {
            TensorPrimitives.Divide(sums[c], Math.Max(1, counts[c]), sums[c]);
        }

        return sums;
    }
}
