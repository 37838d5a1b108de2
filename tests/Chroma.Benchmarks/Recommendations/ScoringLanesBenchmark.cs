using System.Diagnostics;
using System.Globalization;
using Chroma.Server.Hosting;
using Chroma.Server.Tests.Recommendations.Data;

namespace Chroma.Benchmarks.Recommendations;

/// <summary>
/// Does one set's long pass hold up another set's ranking? An embedded server gets a wide set (3,072-d, 2,500
/// training rows: a dense covariance, minutes of fit on two cores) and, once that set's pass has begun, a small
/// 16-d set; the client then waits (server-side, <c>wait_for_acknowledged</c>) for the small set's ranking. Run once with
/// <c>Chroma:Scoring:ConcurrentPasses</c> = 1 (passes one at a time, as before) and once with the default 2, in the
/// same process, on fresh data directories.
/// <code>dotnet run -c Release --project tests/Chroma.Benchmarks -- recs-lanes [wide dimension] [wide training rows]</code>
/// </summary>
internal static class ScoringLanesBenchmark
{
    public const string Usage = "[wide dimension (3072)] [wide training rows (2500)]   (a small set's ranking wait while a wide set fits, 1 lane vs 2)";

    private const int SmallDimension = 16;
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(10);

    public static async Task<int> RunAsync(string[] args)
    {
        var wideDimension = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 3_072;
        var wideRows = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 2_500;
        Console.WriteLine($"cores={Environment.ProcessorCount} wide set {wideDimension}-d with {wideRows} training rows, small set {SmallDimension}-d with 30");
        Console.WriteLine("| Scoring:ConcurrentPasses | small set's ranking, waited from its ack | wide set's ranking, from its ack |");
        Console.WriteLine("|---|---|---|");
        foreach (var lanes in new[] { 1, 2 })
        {
            var (small, wide) = await MeasureAsync(lanes, wideDimension, wideRows);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {lanes} | {small.TotalSeconds:0.0} s | {wide.TotalSeconds:0.0} s |"));
        }

        return 0;
    }

    private static async Task<(TimeSpan Small, TimeSpan Wide)> MeasureAsync(int lanes, int wideDimension, int wideRows)
    {
        var directory = Path.Combine(Path.GetTempPath(), "chroma-recs-lanes-" + Guid.NewGuid().ToString("N")[..8]);
        var options = new ChromaServerOptions { Host = "127.0.0.1", Port = 0, DataDirectory = directory };
        options.Scoring.ConcurrentPasses = lanes;
        try
        {
            await using var server = await ChromaServer.StartAsync(options);
            await using var client = new ChromaClient(new ChromaClientOptions { Endpoint = server.Endpoint, QueueCapacity = wideRows + 100, MaxBatchSize = 250 });
            var wide = client.GetEmbeddingSet(new EmbeddingSetDescriptor("wide", "1", "fc", wideDimension));
            var small = client.GetEmbeddingSet(new EmbeddingSetDescriptor("small", "1", "fc", SmallDimension));

            Log(wide, wideRows, wideDimension, seed: 1);
            await client.FlushAsync().WaitAsync(Timeout);
            var wideAcknowledged = Stopwatch.StartNew();
            var wideRanked = client.WaitForRecommendationsAsync(wide.Descriptor.Id, Timeout);

            // The wide set's pass is under way (its fit takes far longer than this) when the small set arrives.
            await Task.Delay(TimeSpan.FromSeconds(3));
            Log(small, 30, SmallDimension, seed: 2);
            await client.FlushAsync().WaitAsync(Timeout);
            var smallAcknowledged = Stopwatch.StartNew();
            await client.WaitForRecommendationsAsync(small.Descriptor.Id, Timeout);
            var smallWait = smallAcknowledged.Elapsed;
            await wideRanked;
            var wideWait = wideAcknowledged.Elapsed;
            return (smallWait, wideWait);
        }
        finally
        {
            try
            {
                Directory.Delete(directory, recursive: true);
            }
            catch (IOException)
            {
                // Left for the system's temp cleaner.
            }
        }
    }

    // Training rows in three classes, then five production rows.
    private static void Log(EmbeddingSet set, int trainingRows, int dimension, int seed)
    {
        var (embeddings, labels) = SyntheticEmbeddings.Clusters(3, (trainingRows / 3) + 2, dimension, 4, seed);
        for (var i = 0; i < trainingRows; i++)
        {
            set.LogTraining(embeddings.AsSpan(i * dimension, dimension), labels[i]);
        }

        for (var i = 0; i < 5; i++)
        {
            set.LogProduction(embeddings.AsSpan(i * dimension, dimension), labels[i]);
        }
    }
}
