using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Chroma.Protocol.V1;
using Chroma.Server.Tests.TestSupport;
using Microsoft.Extensions.DependencyInjection;

namespace Chroma.Server.Tests.Web;

/// <summary>Studio's queue API on a real server: pages, review states, score ranks, bad paging, compressed JSON.</summary>
[TestFixture]
public sealed class StudioQueueApiTests
{
    private static readonly EmbeddingSetDescriptor Descriptor = new() { Model = "q", ModelVersion = "1", Layer = "l", Dimension = 8 };

    [Test]
    [CancelAfter(90_000)]
    public async Task Queue_Pages_FollowOnWithoutGapsAndSayWhatIsReviewed(CancellationToken cancellationToken)
    {
        // Arrange: 40 training and 30 production records, scored; one production record dismissed.
        await using var server = await RunningServer.StartAsync();
        using var http = new HttpClient { BaseAddress = server.Server.WebEndpoint };
        var production = Batch("production", 40, 30);
        await server.LogAsync(Batch("training", 0, 40), production);
        await server.Query.GetRecommendationsAsync(
            new GetRecommendationsRequest { SetId = "q/1/l", PageSize = 1, WaitForAcknowledged = true, WaitTimeoutMs = 60_000 }, cancellationToken: cancellationToken);
        var labeling = server.Server.Services.GetRequiredService<Chroma.Server.Labeling.LabelingService>();
        var dismissed = production.Records[3].Id;
        await labeling.SetReviewStateAsync("q/1/l", [dismissed], Chroma.Server.Labeling.ReviewState.Dismissed, "ada", cancellationToken);

        // Act: the queue in pages of 10, then the same with reviewed records included.
        var pages = new List<JsonElement>();
        for (var offset = 0; offset < 40; offset += 10)
        {
            pages.Add(await GetAsync(http, $"/api/queue?set=q/1/l&diversity=off&offset={offset}&take=10", cancellationToken));
        }

        var withReviewed = await GetAsync(http, "/api/queue?set=q/1/l&diversity=off&reviewed=include&take=200", cancellationToken);

        // Assert
        var ids = pages.SelectMany(p => p.GetProperty("items").EnumerateArray().Select(i => i.GetProperty("id").GetString())).ToList();
        var ranks = pages.SelectMany(p => p.GetProperty("items").EnumerateArray().Select(i => i.GetProperty("scoreRank").GetInt32())).ToList();
        var states = withReviewed.GetProperty("items").EnumerateArray().ToDictionary(i => i.GetProperty("id").GetString()!, i => i.GetProperty("reviewState").GetString());
        Assert.Multiple(() =>
        {
            Assert.That(ids, Has.Count.EqualTo(29).And.Unique, "every unreviewed production record once, across the pages");
            Assert.That(ids, Does.Not.Contain(dismissed));
            Assert.That(ranks, Is.EqualTo(Enumerable.Range(1, 29)), "without diversity the score rank is the position");
            Assert.That(pages.Select(p => p.GetProperty("offset").GetInt32()), Is.EqualTo(new[] { 0, 10, 20, 30 }));
            Assert.That(pages.Select(p => p.GetProperty("hasMore").GetBoolean()), Is.EqualTo(new[] { true, true, false, false }));
            Assert.That(pages[0].GetProperty("reviewed").GetInt32(), Is.EqualTo(1), "the page says how many records are reviewed or dismissed");
            Assert.That(states, Has.Count.EqualTo(30));
            Assert.That(states[dismissed], Is.EqualTo("dismissed"), "with reviewed=include each item says its state");
            Assert.That(states.Where(s => s.Key != dismissed).Select(s => s.Value), Is.All.EqualTo("unreviewed"));
        });
    }

    [Test]
    [CancelAfter(60_000)]
    public async Task Queue_BadPaging_400NamingTheParameter(CancellationToken cancellationToken)
    {
        await using var server = await RunningServer.StartAsync();
        using var http = new HttpClient { BaseAddress = server.Server.WebEndpoint };
        await server.LogAsync(Batch("training", 0, 20), Batch("production", 20, 4));

        var answers = new Dictionary<string, (HttpStatusCode Status, string Body)>();
        foreach (var query in new[] { "take=-5", "take=0", "take=ten", "offset=-1", "offset=1.5", "take=100000000000" })
        {
            using var response = await http.GetAsync($"/api/queue?set=q/1/l&{query}", cancellationToken);
            answers[query] = (response.StatusCode, await response.Content.ReadAsStringAsync(cancellationToken));
        }

        Assert.Multiple(() =>
        {
            foreach (var query in new[] { "take=-5", "take=0", "take=ten", "offset=-1", "offset=1.5" })
            {
                Assert.That(answers[query].Status, Is.EqualTo(HttpStatusCode.BadRequest), query);
                Assert.That(answers[query].Body, Does.Contain(query[..query.IndexOf('=', StringComparison.Ordinal)] + ": must be"), query);
            }

            Assert.That(answers["take=100000000000"].Status, Is.EqualTo(HttpStatusCode.OK), "more than a page holds is served as a full page");
        });
    }

    [Test]
    [CancelAfter(60_000)]
    public async Task Queue_BrowserAcceptsGzip_JsonComesCompressedAndImagesOnlyOnce(CancellationToken cancellationToken)
    {
        // Arrange: production records carrying a PNG in their metadata (the preview).
        await using var server = await RunningServer.StartAsync();
        await server.LogAsync(Batch("training", 0, 20), Batch("production", 20, 6, preview: true));
        await server.Query.GetRecommendationsAsync(
            new GetRecommendationsRequest { SetId = "q/1/l", PageSize = 1, WaitForAcknowledged = true, WaitTimeoutMs = 60_000 }, cancellationToken: cancellationToken);
        using var handler = new HttpClientHandler { AutomaticDecompression = DecompressionMethods.None };
        using var http = new HttpClient(handler) { BaseAddress = server.Server.WebEndpoint };

        // Act
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/queue?set=q/1/l");
        request.Headers.AcceptEncoding.ParseAdd("gzip");
        using var response = await http.SendAsync(request, cancellationToken);
        var compressed = await response.Content.ReadAsByteArrayAsync(cancellationToken);
        await using var gzip = new System.IO.Compression.GZipStream(new MemoryStream(compressed), System.IO.Compression.CompressionMode.Decompress);
        var page = (await JsonDocument.ParseAsync(gzip, cancellationToken: cancellationToken)).RootElement;
        var script = await http.GetAsync("/assets/studio.js", cancellationToken);

        // Assert
        var item = page.GetProperty("items")[0];
        Assert.Multiple(() =>
        {
            Assert.That(response.Content.Headers.ContentEncoding, Is.EqualTo(new[] { "gzip" }));
            Assert.That(item.GetProperty("preview").GetString(), Does.StartWith("data:image/png;base64,"), "the picture is the preview");
            Assert.That(item.GetProperty("metadata").TryGetProperty("preview", out _), Is.False, "and is not sent a second time as metadata");
            Assert.That(item.GetProperty("metadata").GetProperty("source").GetString(), Is.EqualTo("camera"), "other metadata stays");
            Assert.That(script.Content.Headers.ContentEncoding, Is.Empty, "no compression for a client that did not ask");
        });
    }

    private static async Task<JsonElement> GetAsync(HttpClient http, string path, CancellationToken cancellationToken)
    {
        using var response = await http.GetAsync(path, cancellationToken);
        var body = await response.Content.ReadAsStringAsync(cancellationToken);
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK), body);
        return JsonDocument.Parse(body).RootElement;
    }

    // Record i's embedding: seeded Gaussian values, so no two records are near-duplicates (which the queue collapses).
    private static float[] Embedding(int i)
    {
        var random = new Random(1_000 + i);
        return [.. Enumerable.Range(0, 8).Select(_ => (float)(Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble())))];
    }

    // A 1x1 PNG, base64.
    private const string Png = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAAAAAA6fptVAAAACklEQVR4nGNgAAAAAgABSK+kcQAAAABJRU5ErkJggg==";

    private static LogBatch Batch(string dataset, int first, int count, bool preview = false) =>
        Records.Batch(Descriptor, [.. Enumerable.Range(first, count).Select(i =>
        {
            var record = Records.Make(
                Embedding(i),
                dataset,
                dataset == "training" ? (i % 2).ToString(System.Globalization.CultureInfo.InvariantCulture) : null);
            if (preview)
            {
                record.Metadata["preview"] = Png;
                record.Metadata["source"] = "camera";
            }

            return record;
        })]);
}
