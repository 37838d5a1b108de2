using System.Diagnostics;
using System.Globalization;
using Chroma.Server.Indexing;
using Chroma.Server.Storage;
using Microsoft.Extensions.DependencyInjection;

namespace Chroma.IntegrationTests.Indexing;

/// <summary>
/// 20 000 records of 128 floats through the real client: past the default exact-search threshold (5 000), so
/// FindNearest answers from the HNSW graph; a restart loads the saved graph instead of rebuilding it.
/// </summary>
[TestFixture]
public sealed class HnswIndexServingTests
{
    private const int Dimension = 128;
    private const int RecordCount = 20_000;
    private const int QueryCount = 200;
    private const int K = 10;

    [Test, CancelAfter(300_000)]
    public async Task FindNearest_LargeSetThenRestart_AnswersFromHnswWithHighRecallAndLoadsSavedIndex(CancellationToken cancellationToken)
    {
        // Arrange: clustered vectors (embeddings are), logged as training records named by input URI.
        var vectors = Clustered(RecordCount + QueryCount, seed: 17);
        await using var fixture = await ServerFixture.StartAsync();
        var setId = await LogAsync(fixture, vectors, cancellationToken);
        await using var client = new ChromaClient(new ChromaClientOptions { Endpoint = fixture.Endpoint });
        var indexes = fixture.Server.Services.GetRequiredService<EmbeddingSetIndexes>();
        var set = fixture.Server.Services.GetRequiredService<IRecordStore>().FindSet(setId)!;

        // Act 1: the first query waits for the worker to apply every acknowledged batch; then the graph takes over.
        var buildWatch = Stopwatch.StartNew();
        await FindAsync(client, setId, vectors[RecordCount], cancellationToken);
        var index = await indexes.LoadAsync(set).WaitAsync(cancellationToken);
        await index.BuildCompletion.WaitAsync(cancellationToken);
        buildWatch.Stop();
        var queryWatch = Stopwatch.StartNew();
        var before = new List<string[]>();
        for (var q = 0; q < QueryCount; q++)
        {
            before.Add(await FindAsync(client, setId, vectors[RecordCount + q], cancellationToken));
        }

        queryWatch.Stop();

        // Act 2: restart on the same data directory.
        await fixture.RestartAsync();
        indexes = fixture.Server.Services.GetRequiredService<EmbeddingSetIndexes>();
        set = fixture.Server.Services.GetRequiredService<IRecordStore>().FindSet(setId)!;
        var loadWatch = Stopwatch.StartNew();
        var reloaded = await indexes.LoadAsync(set).WaitAsync(cancellationToken);
        loadWatch.Stop();
        await using var clientAfterRestart = new ChromaClient(new ChromaClientOptions { Endpoint = fixture.Endpoint });
        var after = new List<string[]>();
        for (var q = 0; q < QueryCount; q++)
        {
            after.Add(await FindAsync(clientAfterRestart, setId, vectors[RecordCount + q], cancellationToken));
        }

        // Assert
        var recall = Enumerable.Range(0, QueryCount)
            .Average(q => before[q].Intersect(ExactNearest(vectors, vectors[RecordCount + q])).Count() / (double)K);
        await TestContext.Out.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
            $"{RecordCount} x {Dimension}: indexed and graph built {buildWatch.Elapsed.TotalSeconds:F2} s after the flush; " +
            $"FindNearest k={K} mean {queryWatch.Elapsed.TotalMilliseconds / QueryCount:F2} ms over gRPC; recall@{K} {recall:F3}; " +
            $"restart load {loadWatch.Elapsed.TotalMilliseconds:F0} ms"));
        Assert.Multiple(() =>
        {
            Assert.That(index.Hnsw, Is.Not.Null, "past the threshold the set is searched through its graph");
            Assert.That(recall, Is.GreaterThanOrEqualTo(0.95));
            Assert.That(reloaded.Hnsw, Is.Not.Null);
            Assert.That(indexes.GetLoadReport(set), Is.EqualTo(new IndexLoadReport(FromFile: true, RecordsReadFromStore: 0, DeletionsCaughtUp: 0)),
                "the saved graph was loaded; nothing was rebuilt or caught up");
            Assert.That(after, Is.EqualTo(before), "the same answers after the restart");
        });
    }

    private static async Task<string> LogAsync(ServerFixture fixture, float[][] vectors, CancellationToken cancellationToken)
    {
        await using var client = new ChromaClient(new ChromaClientOptions
        {
            Endpoint = fixture.Endpoint,
            QueueCapacity = RecordCount,
            FlushInterval = TimeSpan.FromMilliseconds(10),
        });
        var set = client.GetEmbeddingSet(new EmbeddingSetDescriptor("it-hnsw", "1", "penultimate", Dimension));
        for (var i = 0; i < RecordCount; i++)
        {
            Assert.That(set.LogTraining(vectors[i], inputUri: Uri(i)), Is.True, "queued, not dropped");
        }

        await client.FlushAsync(cancellationToken);
        return set.Descriptor.Id;
    }

    private static async Task<string[]> FindAsync(ChromaClient client, string setId, float[] query, CancellationToken cancellationToken)
    {
        var neighbors = await client.FindNearestAsync(setId, query, K, ChromaDatasets.Training, cancellationToken);
        return [.. neighbors.Select(n => n.Record.InputUri!)];
    }

    private static IEnumerable<string> ExactNearest(float[][] vectors, float[] query) =>
        Enumerable.Range(0, RecordCount)
            .OrderBy(i => SquaredDistance(vectors[i], query))
            .Take(K)
            .Select(Uri);

    private static double SquaredDistance(float[] a, float[] b)
    {
        double sum = 0;
        for (var j = 0; j < a.Length; j++)
        {
            double d = a[j] - b[j];
            sum += d * d;
        }

        return sum;
    }

    private static string Uri(int i) => string.Create(CultureInfo.InvariantCulture, $"row://{i}");

    /// <summary>Gaussian blobs around 50 centres.</summary>
    private static float[][] Clustered(int count, int seed)
    {
        var random = new Random(seed);
        var centres = Enumerable.Range(0, 50).Select(_ => Enumerable.Range(0, Dimension).Select(_ => (random.NextSingle() * 10) - 5).ToArray()).ToArray();
        return [.. Enumerable.Range(0, count).Select(_ =>
        {
            var centre = centres[random.Next(centres.Length)];
            return centre.Select(x => x + (float)(Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble()))).ToArray();
        })];
    }
}
