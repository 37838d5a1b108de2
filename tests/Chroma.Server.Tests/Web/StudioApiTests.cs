using System.Buffers.Binary;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Chroma.Protocol.V1;
using Chroma.Server.Tests.TestSupport;
using Microsoft.Extensions.DependencyInjection;

namespace Chroma.Server.Tests.Web;

/// <summary>Studio's HTTP API on a real server: sign-in with the API key, and the binary map of stored records.</summary>
[TestFixture]
public sealed class StudioApiTests
{
    private const string Key = "studio-api-key-93";
    private const string StudioCookie = "chroma_studio";

    // The set the tests log: m/1/l, 8 dimensions (Batch writes 8 values a record).
    private static readonly EmbeddingSetDescriptor Descriptor = new() { Model = "m", ModelVersion = "1", Layer = "l", Dimension = 8 };

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
    public async Task SignIn_WhileKeysRotate_OnlyTheCurrentKeyOpensStudio(CancellationToken cancellationToken)
    {
        // PreviousApiKey keeps gRPC clients working while they move to the new key; Studio's sign-in takes ApiKey
        // alone, as the README says, so a key rotated out after a leak no longer opens Studio (probe V, V7).
        await using var server = await RunningServer.StartAsync(o =>
        {
            o.ApiKey = Key + "-new";
            o.PreviousApiKey = Key;
            o.Web.Port = 0;
        }, clientApiKey: Key);
        using var http = new HttpClient { BaseAddress = server.Server.WebEndpoint };

        var previous = await http.PostAsJsonAsync("/api/session", new { key = Key }, cancellationToken);
        var current = await http.PostAsJsonAsync("/api/session", new { key = Key + "-new" }, cancellationToken);
        var grpcWithPrevious = await server.Query.ListSetsAsync(new ListSetsRequest(), cancellationToken: cancellationToken);

        Assert.Multiple(() =>
        {
            Assert.That(previous.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));
            Assert.That(previous.Headers.Contains("Set-Cookie"), Is.False);
            Assert.That(current.StatusCode, Is.EqualTo(HttpStatusCode.OK));
            Assert.That(grpcWithPrevious, Is.Not.Null, "gRPC still takes the previous key");
        });
    }

    [Test]
    [CancelAfter(60_000)]
    public async Task Session_FromAServerThatRestarted_StillValidWithTheSameKeyOnlyAndUnlessSignedOut(CancellationToken cancellationToken)
    {
        // Arrange: a session token from one server instance, which then stops.
        string cookie;
        await using (var first = await RunningServer.StartAsync(apiKey: Key))
        {
            using var http = new HttpClient { BaseAddress = first.Server.WebEndpoint };
            var signIn = await http.PostAsJsonAsync("/api/session", new { key = Key }, cancellationToken);
            cookie = signIn.Headers.GetValues("Set-Cookie").Single().Split(';')[0];
        }

        // Act: the same cookie at a new instance with the same key (a restart, or another replica), and at one with another key.
        await using var restarted = await RunningServer.StartAsync(apiKey: Key);
        await using var otherKey = await RunningServer.StartAsync(apiKey: Key + "-rotated");
        var afterRestart = await GetSetsAsync(restarted, cookie, cancellationToken);
        var withOtherKey = await GetSetsAsync(otherKey, cookie, cancellationToken);
        var tampered = await GetSetsAsync(restarted, cookie[..^2] + (cookie[^2] == 'A' ? "BA" : "AA"), cancellationToken);
        using (var signOut = new HttpRequestMessage(HttpMethod.Delete, "/api/session"))
        {
            signOut.Headers.Add("Cookie", cookie);
            using var http = new HttpClient { BaseAddress = restarted.Server.WebEndpoint };
            await http.SendAsync(signOut, cancellationToken);
        }

        var afterSignOut = await GetSetsAsync(restarted, cookie, cancellationToken);

        // Assert
        Assert.Multiple(() =>
        {
            Assert.That(afterRestart, Is.EqualTo(HttpStatusCode.OK), "a restart does not sign the user out");
            Assert.That(withOtherKey, Is.EqualTo(HttpStatusCode.Unauthorized), "a new key voids the session");
            Assert.That(tampered, Is.EqualTo(HttpStatusCode.Unauthorized));
            Assert.That(afterSignOut, Is.EqualTo(HttpStatusCode.Unauthorized));
        });
    }

    [Test]
    [CancelAfter(60_000)]
    public async Task SignOut_ThenTheServerRestartsOnItsDataDirectory_TheCookieStaysRefusedAndANewSignInWorks(CancellationToken cancellationToken)
    {
        // Arrange: a session that works, then is signed out, on a server that then stops.
        using var data = new TempDirectory();
        string cookie;
        HttpStatusCode beforeSignOut, signOut;
        await using (var first = await RunningServer.StartAsync(data.Path, apiKey: Key))
        {
            using var http = new HttpClient { BaseAddress = first.Server.WebEndpoint };
            var signIn = await http.PostAsJsonAsync("/api/session", new { key = Key }, cancellationToken);
            cookie = signIn.Headers.GetValues("Set-Cookie").Single().Split(';')[0];
            beforeSignOut = await GetSetsAsync(first, cookie, cancellationToken);
            using var request = new HttpRequestMessage(HttpMethod.Delete, "/api/session");
            request.Headers.Add("Cookie", cookie);
            using var response = await http.SendAsync(request, cancellationToken);
            signOut = response.StatusCode;
        }

        // Act: the copied cookie at the restarted server, which never saw the sign-out in memory; then a new sign-in there.
        await using var restarted = await RunningServer.StartAsync(data.Path, apiKey: Key);
        var afterRestart = await GetSetsAsync(restarted, cookie, cancellationToken);
        using var again = new HttpClient { BaseAddress = restarted.Server.WebEndpoint };
        var newSignIn = await again.PostAsJsonAsync("/api/session", new { key = Key }, cancellationToken);
        var newCookie = newSignIn.Headers.GetValues("Set-Cookie").Single().Split(';')[0];
        var withNewCookie = await GetSetsAsync(restarted, newCookie, cancellationToken);

        // Assert
        Assert.Multiple(() =>
        {
            Assert.That(beforeSignOut, Is.EqualTo(HttpStatusCode.OK));
            Assert.That(signOut, Is.EqualTo(HttpStatusCode.OK));
            Assert.That(afterRestart, Is.EqualTo(HttpStatusCode.Unauthorized), "a sign-out outlives the restart");
            Assert.That(newCookie, Is.Not.EqualTo(cookie));
            Assert.That(withNewCookie, Is.EqualTo(HttpStatusCode.OK), "only the signed-out session is refused");
        });
    }

    [Test]
    [CancelAfter(60_000)]
    public async Task SignOut_StoreCannotBeWritten_503SayingSoCookieDroppedAndThisServerRefusesTheSession(CancellationToken cancellationToken)
    {
        // Arrange: a signed-in session, then the sign-out table is taken away under the running server.
        using var data = new TempDirectory();
        await using var server = await RunningServer.StartAsync(data.Path, apiKey: Key);
        using var http = new HttpClient { BaseAddress = server.Server.WebEndpoint };
        var signIn = await http.PostAsJsonAsync("/api/session", new { key = Key }, cancellationToken);
        var cookie = signIn.Headers.GetValues("Set-Cookie").Single().Split(';')[0];
        using (var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={Path.Combine(data.Path, "chroma.db")};Pooling=False"))
        {
            connection.Open();
            using var drop = connection.CreateCommand();
            drop.CommandText = "DROP TABLE studio_sign_outs;";
            drop.ExecuteNonQuery();
        }

        // Act
        using var request = new HttpRequestMessage(HttpMethod.Delete, "/api/session");
        request.Headers.Add("Cookie", cookie);
        using var signOut = await http.SendAsync(request, cancellationToken);
        var error = JsonDocument.Parse(await signOut.Content.ReadAsStringAsync(cancellationToken)).RootElement.GetProperty("error").GetString();
        var afterSignOut = await GetSetsAsync(server, cookie, cancellationToken);

        // Assert
        Assert.Multiple(() =>
        {
            Assert.That(signOut.StatusCode, Is.EqualTo(HttpStatusCode.ServiceUnavailable));
            Assert.That(error, Does.StartWith("signed out here, but the sign-out could not be stored").And.Contain("change the API key"));
            Assert.That(signOut.Headers.GetValues("Set-Cookie").Single(), Does.StartWith(StudioCookie + "=;"), "the browser drops the cookie");
            Assert.That(afterSignOut, Is.EqualTo(HttpStatusCode.Unauthorized), "this server refuses the session at once");
        });
    }

    [Test]
    [CancelAfter(60_000)]
    public async Task Queue_DatasetTheSetDoesNotHave_400NamingItAndTheDatasetsItHas(CancellationToken cancellationToken)
    {
        await using var server = await RunningServer.StartAsync();
        using var http = new HttpClient { BaseAddress = server.Server.WebEndpoint };
        var descriptor = Descriptor;
        await server.LogAsync(Batch(descriptor, "training", 0, 20), Batch(descriptor, "production", 20, 4));

        var typo = await http.GetAsync("/api/queue?set=m/1/l&dataset=prodution", cancellationToken);
        var training = await http.GetAsync("/api/queue?set=m/1/l&dataset=training", cancellationToken);

        Assert.Multiple(async () =>
        {
            Assert.That(typo.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest));
            var error = JsonDocument.Parse(await typo.Content.ReadAsStringAsync(cancellationToken)).RootElement.GetProperty("error").GetString();
            Assert.That(error, Does.Contain("no dataset 'prodution' (it has production)"));
            Assert.That(training.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest));
        });
    }

    [TestCase("/api/record?set=m/1/l&sequence=abc", "sequence")]
    [TestCase("/api/input?set=m/1/l&sequence=1.5", "sequence")]
    [TestCase("/api/map?set=m/1/l&after=yesterday", "after")]
    [CancelAfter(60_000)]
    public async Task Read_NumberParameterNotANumber_400JsonNamingTheParameter(string path, string parameter, CancellationToken cancellationToken)
    {
        await using var server = await RunningServer.StartAsync();
        using var http = new HttpClient { BaseAddress = server.Server.WebEndpoint };
        await server.LogAsync(Batch(Descriptor, "training", 0, 4));

        using var response = await http.GetAsync(path, cancellationToken);
        var text = await response.Content.ReadAsStringAsync(cancellationToken);

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest));
        Assert.That(text, Does.StartWith("{"), "a JSON error like every other answer of the API");
        Assert.That(JsonDocument.Parse(text).RootElement.GetProperty("error").GetString(), Does.Contain(parameter));
    }

    private static async Task<HttpStatusCode> GetSetsAsync(RunningServer server, string cookie, CancellationToken cancellationToken)
    {
        using var http = new HttpClient { BaseAddress = server.Server.WebEndpoint };
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/sets");
        request.Headers.Add("Cookie", cookie);
        using var response = await http.SendAsync(request, cancellationToken);
        return response.StatusCode;
    }

    [Test]
    [CancelAfter(60_000)]
    public async Task Map_StoredRecords_EveryPointOnceAndDeltaOnlyNewOnes(CancellationToken cancellationToken)
    {
        await using var server = await RunningServer.StartAsync();
        using var http = new HttpClient { BaseAddress = server.Server.WebEndpoint };
        var descriptor = Descriptor;
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

    [Test]
    [CancelAfter(60_000)]
    public async Task Undo_LabelOrReview_PutsTheRecordsReviewBackAsItWasAndPromotesNothing(CancellationToken cancellationToken)
    {
        // Arrange: production record a labeled "old" through the API; b never reviewed.
        await using var server = await RunningServer.StartAsync();
        using var http = new HttpClient { BaseAddress = server.Server.WebEndpoint };
        var descriptor = Descriptor;
        var production = Batch(descriptor, "production", 20, 4);
        await server.LogAsync(Batch(descriptor, "training", 0, 20), production);
        var labeling = server.Server.Services.GetRequiredService<Chroma.Server.Labeling.LabelingService>();
        var (a, b) = (production.Records[0].Id, production.Records[1].Id);
        await labeling.LabelAsync("m/1/l", [new Chroma.Server.Labeling.LabelInput(a, "old")], "ada", cancellationToken);

        // Act: Studio labels a "new" and b "7", dismisses b, and undoes each, newest first; then promotes both.
        var relabel = await PostAsync(http, "/api/label", new { set = "m/1/l", ids = new[] { a }, label = "new" }, cancellationToken);
        var label = await PostAsync(http, "/api/label", new { set = "m/1/l", ids = new[] { b }, label = "7" }, cancellationToken);
        var dismiss = await PostAsync(http, "/api/review", new { set = "m/1/l", ids = new[] { b }, state = "dismissed" }, cancellationToken);
        foreach (var action in new[] { dismiss, label, relabel })
        {
            var undone = await http.PostAsJsonAsync("/api/undo", new { token = action.GetProperty("undo").GetString() }, cancellationToken);
            Assert.That(undone.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        }

        var promoted = await labeling.PromoteAsync("m/1/l", [], "ada", cancellationToken);

        // Assert
        var labeled = labeling.GetLabeled("m/1/l", 0, 100, includeEmbeddings: false).Records;
        var trail = labeling.GetHistory("m/1/l", b, 0, 100);
        Assert.Multiple(() =>
        {
            Assert.That(labeled.Select(l => (l.Record.Record.Id, l.Review.Label)), Is.EqualTo(new[] { (a, "old") }), "a has its earlier label back, b none");
            Assert.That(promoted.Promoted.Select(p => p.RecordId), Is.EqualTo(new[] { a }), "the undone label is not promoted");
            Assert.That(trail.Select(e => e.Action), Is.EqualTo(new[] { "label", "dismiss", "undo", "undo" }), "the trail keeps what was done and undone");
        });
    }

    private static async Task<JsonElement> PostAsync(HttpClient http, string path, object body, CancellationToken cancellationToken)
    {
        var response = await http.PostAsJsonAsync(path, body, cancellationToken);
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK), await response.Content.ReadAsStringAsync(cancellationToken));
        return JsonDocument.Parse(await response.Content.ReadAsStringAsync(cancellationToken)).RootElement;
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
