using System.Net;
using System.Text.Json;
using Chroma.Protocol.V1;
using Chroma.Server.Tests.TestSupport;

namespace Chroma.Server.Tests.Web;

/// <summary>
/// Studio's queue and sets say when the ranking is stale (read back after a restart, or scored against training data
/// that changed since), so the page does not call a ranking on its way "never scored".
/// </summary>
[TestFixture]
public sealed class StudioStaleRankingTests
{
    private static readonly EmbeddingSetDescriptor Descriptor = new() { Model = "stale", ModelVersion = "1", Layer = "l", Dimension = 8 };

    [Test]
    [CancelAfter(90_000)]
    public async Task QueueAndSets_TrainingChangedSinceThePass_SayStaleAndStillServeTheRanking(CancellationToken cancellationToken)
    {
        // Arrange: a scored set; passes wait 3 s after a change, so the refit a new training record asks for is not
        // done when the page asks again at once.
        await using var server = await RunningServer.StartAsync(o =>
        {
            o.Port = 0;
            o.Web.Port = 0;
            o.Scoring.Debounce = TimeSpan.FromSeconds(3);
            o.Scoring.MaxDelay = TimeSpan.FromSeconds(5);
        });
        using var http = new HttpClient { BaseAddress = server.Server.WebEndpoint };
        await server.LogAsync(Batch("training", 0, 40), Batch("production", 40, 20));
        await server.Query.GetRecommendationsAsync(
            new GetRecommendationsRequest { SetId = "stale/1/l", PageSize = 1, WaitForAcknowledged = true, WaitTimeoutMs = 60_000 }, cancellationToken: cancellationToken);
        var fresh = await GetAsync(http, "/api/queue?set=stale/1/l", cancellationToken);

        // Act: one more training record, then the queue and the set cards at once.
        await server.LogAsync(Batch("training", 60, 1));
        var queue = await GetAsync(http, "/api/queue?set=stale/1/l", cancellationToken);
        var sets = await GetAsync(http, "/api/sets", cancellationToken);

        // Assert
        var scoring = sets.EnumerateArray().Single().GetProperty("scoring");
        Assert.Multiple(() =>
        {
            Assert.That(fresh.GetProperty("stale").GetBoolean(), Is.False, "a ranking of the current training data is not stale");
            Assert.That(queue.GetProperty("stale").GetBoolean(), Is.True, "the queue says its ranking predates the training change");
            Assert.That(queue.GetProperty("items").GetArrayLength(), Is.EqualTo(20), "and still serves it");
            Assert.That(scoring.GetProperty("stale").GetBoolean(), Is.True, "the set card says so too");
        });
    }

    private static async Task<JsonElement> GetAsync(HttpClient http, string path, CancellationToken cancellationToken)
    {
        using var response = await http.GetAsync(path, cancellationToken);
        var body = await response.Content.ReadAsStringAsync(cancellationToken);
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK), body);
        return JsonDocument.Parse(body).RootElement;
    }

    // Seeded Gaussian embeddings: no two records are near-duplicates (which the queue collapses).
    private static LogBatch Batch(string dataset, int first, int count) =>
        Records.Batch(Descriptor, [.. Enumerable.Range(first, count).Select(i =>
        {
            var random = new Random(7_000 + i);
            var embedding = Enumerable.Range(0, 8).Select(_ => (float)(Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble()))).ToArray();
            return Records.Make(embedding, dataset, dataset == "training" ? (i % 2).ToString(System.Globalization.CultureInfo.InvariantCulture) : null);
        })]);
}
