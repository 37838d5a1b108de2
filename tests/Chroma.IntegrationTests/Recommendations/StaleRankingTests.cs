using System.Globalization;
using Chroma.Server.Hosting;

namespace Chroma.IntegrationTests.Recommendations;

/// <summary>
/// A ranking never disappears: after training changes, and across a restart before the refit, the
/// last ranking keeps being served, marked stale, until a finished pass replaces it.
/// </summary>
[TestFixture]
public sealed class StaleRankingTests
{
    private const int Dimension = 16;
    private const int Classes = 3;
    private const int ProductionCount = 40;
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    // Long enough that no pass starts between logging the new training records and the restart (nor
    // between the restart and the first read of the restored ranking).
    private static readonly TimeSpan Debounce = TimeSpan.FromSeconds(5);

    [Test, CancelAfter(120_000)]
    public async Task GetRecommendations_TrainingChangedThenRestart_ServesTheLastRankingStaleUntilANewPassReplacesIt(CancellationToken cancellationToken)
    {
        // Arrange: a fresh ranking.
        var dataDirectory = Path.Combine(Path.GetTempPath(), "chroma-stale-" + Guid.NewGuid().ToString("N"));
        var options = new ChromaServerOptions
        {
            Host = "127.0.0.1",
            Port = 0,
            DataDirectory = dataDirectory,
            Scoring = { Debounce = Debounce, MaxDelay = Debounce },
        };
        var random = new Random(5);
        string setId;
        string[] rankedBefore;
        RecommendationPage stale;
        await using (var server = await ChromaServer.StartAsync(options, cancellationToken).WaitAsync(Timeout, cancellationToken))
        {
            await using var client = NewClient(server.Endpoint);
            var set = client.GetEmbeddingSet(new EmbeddingSetDescriptor("it-stale", "1", "fc", Dimension));
            setId = set.Descriptor.Id;
            LogTraining(set, 50, shift: 0, random);
            for (var i = 0; i < ProductionCount; i++)
            {
                set.LogProduction(Around(i % Classes, shift: i % 8 == 0 ? 4 : 0, random), Label(i % Classes));
            }

            await client.FlushAsync(cancellationToken).WaitAsync(Timeout, cancellationToken);
            var fresh = await client.WaitForRecommendationsAsync(setId, ProductionCount, Timeout, cancellationToken: cancellationToken);
            rankedBefore = [.. fresh.Items.Select(i => i.Record.Id)];
            Assert.That(fresh.Stale, Is.False);

            // Act 1: training changes; the next pass is far off (debounce), the ranking stays and says it is stale.
            LogTraining(set, 10, shift: 1, random);
            await client.FlushAsync(cancellationToken).WaitAsync(Timeout, cancellationToken);
            stale = await client.GetRecommendationsAsync(setId, cancellationToken: cancellationToken);
        }

        // Act 2: restart before any refit; read until the stored ranking is back, then until a pass replaces it.
        var afterRestart = new List<RecommendationPage>();
        RecommendationPage replaced;
        await using (var server = await ChromaServer.StartAsync(options, cancellationToken).WaitAsync(Timeout, cancellationToken))
        {
            await using var client = NewClient(server.Endpoint);
            do
            {
                afterRestart.Add(await client.GetRecommendationsAsync(setId, cancellationToken: cancellationToken));
                await Task.Delay(20, cancellationToken);
            }
            while (afterRestart[^1].Items.Count == 0 && afterRestart.Count < 2_000);

            replaced = await client.WaitForRecommendationsAsync(setId, ProductionCount, Timeout, cancellationToken: cancellationToken);
        }

        // Assert
        var restored = afterRestart[^1];
        Assert.Multiple(() =>
        {
            Assert.That(stale.Stale, Is.True, "marked stale as soon as training changed");
            Assert.That(stale.Items.Select(i => i.Record.Id), Is.EqualTo(rankedBefore), "the same ranking is still served");
            Assert.That(stale.PendingRecords, Is.EqualTo(ProductionCount), "none is scored against the current training data");
            Assert.That(afterRestart.Select(p => p.Stale), Is.All.True, "after the restart, every page before the refit says stale");
            Assert.That(restored.Items.Select(i => i.Record.Id), Is.EqualTo(rankedBefore), "the stored ranking is served after the restart");
            Assert.That(replaced.Stale, Is.False);
            Assert.That(replaced.ScoredRecords, Is.EqualTo(ProductionCount));
            Assert.That(replaced.PendingRecords, Is.Zero);
            Assert.That(replaced.ComputedAt, Is.GreaterThan(restored.ComputedAt!.Value));
        });
        TryDelete(dataDirectory);
    }

    private static ChromaClient NewClient(Uri endpoint) => new(new ChromaClientOptions { Endpoint = endpoint, FlushInterval = TimeSpan.FromMilliseconds(10) });

    private static void LogTraining(EmbeddingSet set, int perClass, double shift, Random random)
    {
        for (var i = 0; i < perClass * Classes; i++)
        {
            set.LogTraining(Around(i % Classes, shift, random), Label(i % Classes));
        }
    }

    private static float[] Around(int cls, double shift, Random random)
    {
        var vector = new float[Dimension];
        for (var j = 0; j < Dimension; j++)
        {
            vector[j] = (float)((j == cls ? 5 : 0) + (j == Dimension - 1 ? shift : 0) + random.NextDouble() - 0.5);
        }

        return vector;
    }

    private static string Label(int cls) => cls.ToString(CultureInfo.InvariantCulture);

    private static void TryDelete(string directory)
    {
        try
        {
            Directory.Delete(directory, recursive: true);
        }
        catch (IOException)
        {
            // Left in the temp folder.
        }
    }
}
