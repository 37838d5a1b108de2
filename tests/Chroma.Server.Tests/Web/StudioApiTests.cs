using System.Buffers.Binary;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Chroma.Protocol.V1;
using Chroma.Server.Tests.TestSupport;

namespace Chroma.Server.Tests.Web;

/// <summary>Studio's HTTP API on a real server: sign-in with the API key, and the binary map of stored records.</summary>
[TestFixture]
public sealed class StudioApiTests
{
    private const string Key = "studio-api-key-93";

    [Test]
    [CancelAfter(60_000)]
    public async Task Api_KeyConfiguredNoSession_Answers401AndNoData(CancellationToken cancellationToken)
    {
        await using var server = await RunningServer.StartAsync(apiKey: Key);
        using var http = new HttpClient { BaseAddress = server.Server.WebEndpoint };

        var sets = await http.GetAsync("/api/sets", cancellationToken);
        var body = await sets.Content.ReadAsStringAsync(cancellationToken);
        var wrong = await http.PostAsJsonAsync("/api/session", new { key = "nope" }, cancellationToken);

        Assert.Multiple(() =>
        {
            Assert.That(sets.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));
            Assert.That(body, Does.Not.Contain("setId"));
            Assert.That(wrong.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));
            Assert.That(wrong.Headers.Contains("Set-Cookie"), Is.False);
        });
    }

    [Test]
    [CancelAfter(60_000)]
    public async Task Api_SignedInWithKey_HttpOnlyCookieOpensApi(CancellationToken cancellationToken)
    {
        await using var server = await RunningServer.StartAsync(apiKey: Key);
        using var handler = new HttpClientHandler { CookieContainer = new CookieContainer() };
        using var http = new HttpClient(handler) { BaseAddress = server.Server.WebEndpoint };

        var signIn = await http.PostAsJsonAsync("/api/session", new { key = Key }, cancellationToken);
        var cookie = signIn.Headers.GetValues("Set-Cookie").Single();
        var sets = await http.GetAsync("/api/sets", cancellationToken);
        await http.DeleteAsync("/api/session", cancellationToken);
        var afterSignOut = await http.GetAsync("/api/sets", cancellationToken);

        Assert.Multiple(() =>
        {
            Assert.That(signIn.StatusCode, Is.EqualTo(HttpStatusCode.OK));
            Assert.That(cookie, Does.Contain("httponly").IgnoreCase.And.Contain("samesite=strict").IgnoreCase);
            Assert.That(cookie, Does.Not.Contain(Key));
            Assert.That(sets.StatusCode, Is.EqualTo(HttpStatusCode.OK));
            Assert.That(afterSignOut.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));
        });
    }

    [Test]
    [CancelAfter(60_000)]
    public async Task Map_StoredRecords_EveryPointOnceAndDeltaOnlyNewOnes(CancellationToken cancellationToken)
    {
        await using var server = await RunningServer.StartAsync();
        using var http = new HttpClient { BaseAddress = server.Server.WebEndpoint };
        var descriptor = new EmbeddingSetDescriptor { Model = "m", ModelVersion = "1", Layer = "l", Dimension = 8 };
        var acks = await server.LogAsync(Batch(descriptor, "training", 0, 40), Batch(descriptor, "production", 40, 20));
        Assert.That(acks.Select(a => a.Error?.Message), Has.All.Null);

        var full = Decode(await http.GetByteArrayAsync("/api/map?set=m/1/l", cancellationToken));
        await server.LogAsync(Batch(descriptor, "production", 60, 5));
        var delta = Decode(await http.GetByteArrayAsync($"/api/map?set=m/1/l&after={full.Through}", cancellationToken));
        var missing = await http.GetAsync("/api/map?set=no/such/set", cancellationToken);

        Assert.Multiple(() =>
        {
            Assert.That(full.Header.GetProperty("full").GetBoolean(), Is.True);
            Assert.That(full.Sequences, Has.Length.EqualTo(60).And.Unique);
            Assert.That(full.Header.GetProperty("datasets").EnumerateArray().Select(d => d.GetString()), Is.EqualTo(new[] { "training", "production" }));
            Assert.That(full.Datasets.Count(d => d == 1), Is.EqualTo(40));
            Assert.That(delta.Header.GetProperty("full").GetBoolean(), Is.False);
            Assert.That(delta.Sequences, Has.Length.EqualTo(5));
            Assert.That(delta.Sequences.Min(), Is.GreaterThan(full.Sequences.Max()));
            Assert.That(missing.StatusCode, Is.EqualTo(HttpStatusCode.NotFound));
        });
    }

    private static LogBatch Batch(EmbeddingSetDescriptor descriptor, string dataset, int first, int count) =>
        Records.Batch(descriptor, [.. Enumerable.Range(first, count).Select(i => Records.Make(
            [.. Enumerable.Range(0, 8).Select(d => (float)Math.Sin((i * 0.7) + d))],
            dataset,
            dataset == "training" ? (i % 2).ToString(System.Globalization.CultureInfo.InvariantCulture) : null))]);

    private static (JsonElement Header, long Through, long[] Sequences, byte[] Datasets) Decode(byte[] payload)
    {
        var length = (int)BinaryPrimitives.ReadUInt32LittleEndian(payload);
        var header = JsonDocument.Parse(payload.AsMemory(4, length)).RootElement;
        var n = header.GetProperty("count").GetInt32();
        var offset = (4 + length + 7) / 8 * 8;
        var sequences = Enumerable.Range(0, n).Select(i => (long)BinaryPrimitives.ReadDoubleLittleEndian(payload.AsSpan(offset + (8 * i)))).ToArray();
        var datasets = payload.AsSpan(offset + (n * (8 + 4 + 4 + 4 + 2 + 2)), n).ToArray();
        return (header, header.GetProperty("throughSequence").GetInt64(), sequences, datasets);
    }
}
