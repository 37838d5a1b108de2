using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using Chroma.Server.Tests.TestSupport;

namespace Chroma.Server.Tests.Web;

/// <summary>
/// Studio session tokens are accepted only as spelled when issued (probe S, S1): the lenient base64url decoding took
/// 8 spellings of each token (a trailing <c>=</c>, the last character's 2 unused bits), and a sign-out voided only the
/// spelling it was sent with.
/// </summary>
[TestFixture]
public sealed class StudioSessionSpellingTests
{
    private const string Key = "studio-spelling-key-41";
    private const string Alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

    [Test]
    [CancelAfter(60_000)]
    public async Task SignOut_TokenRespelledWithPaddingOrUnusedBits_Refused(CancellationToken cancellationToken)
    {
        // Arrange: a session, signed out with the cookie exactly as issued.
        await using var server = await RunningServer.StartAsync(apiKey: Key);
        var token = await SignInAsync(server, cancellationToken);
        var beforeSignOut = await GetSetsAsync(server, token, cancellationToken);
        var signOut = await SignOutAsync(server, token, cancellationToken);

        // Act: the same token bytes spelled otherwise.
        var respelled = new Dictionary<string, HttpStatusCode>();
        foreach (var spelling in Respellings(token))
        {
            respelled[spelling] = await GetSetsAsync(server, spelling, cancellationToken);
        }

        // Assert
        Assert.Multiple(() =>
        {
            Assert.That(beforeSignOut, Is.EqualTo(HttpStatusCode.OK));
            Assert.That(signOut, Is.EqualTo(HttpStatusCode.OK));
            Assert.That(respelled, Has.Count.EqualTo(5));
            Assert.That(respelled.Where(r => r.Value != HttpStatusCode.Unauthorized).Select(r => r.Key), Is.Empty, "a signed-out token spelled otherwise is refused");
        });
    }

    [Test]
    [CancelAfter(60_000)]
    public async Task Session_LiveTokenSpelledOtherwise_Refused(CancellationToken cancellationToken)
    {
        await using var server = await RunningServer.StartAsync(apiKey: Key);
        var token = await SignInAsync(server, cancellationToken);

        var asIssued = await GetSetsAsync(server, token, cancellationToken);
        var respelled = new Dictionary<string, HttpStatusCode>();
        foreach (var spelling in Respellings(token))
        {
            respelled[spelling] = await GetSetsAsync(server, spelling, cancellationToken);
        }

        Assert.Multiple(() =>
        {
            Assert.That(asIssued, Is.EqualTo(HttpStatusCode.OK));
            Assert.That(respelled.Where(r => r.Value != HttpStatusCode.Unauthorized).Select(r => r.Key), Is.Empty, "only the spelling as issued is a session");
        });
    }

    [Test]
    [CancelAfter(60_000)]
    public async Task SignOut_DigestStoredByAnEarlierVersion_TheTokenStaysRefused(CancellationToken cancellationToken)
    {
        // Arrange: a session signed out by an earlier server, which stored the SHA-256 of the cookie text as sent.
        using var data = new TempDirectory();
        string token;
        await using (var first = await RunningServer.StartAsync(data.Path, apiKey: Key))
        {
            token = await SignInAsync(first, cancellationToken);
        }

        using (var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={Path.Combine(data.Path, "chroma.db")};Pooling=False"))
        {
            await connection.OpenAsync(cancellationToken);
            using var add = connection.CreateCommand();
            add.CommandText = "INSERT INTO studio_sign_outs (token_digest, expires_ms) VALUES ($digest, $expires);";
            add.Parameters.AddWithValue("$digest", Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(token))));
            add.Parameters.AddWithValue("$expires", DateTimeOffset.UtcNow.AddHours(12).ToUnixTimeMilliseconds());
            await add.ExecuteNonQueryAsync(cancellationToken);
        }

        // Act
        await using var restarted = await RunningServer.StartAsync(data.Path, apiKey: Key);
        var afterUpgrade = await GetSetsAsync(restarted, token, cancellationToken);
        var fresh = await GetSetsAsync(restarted, await SignInAsync(restarted, cancellationToken), cancellationToken);

        // Assert
        Assert.Multiple(() =>
        {
            Assert.That(afterUpgrade, Is.EqualTo(HttpStatusCode.Unauthorized));
            Assert.That(fresh, Is.EqualTo(HttpStatusCode.OK));
        });
    }

    // A trailing '=' or '==', and the last character with its unused low bits (a 56-byte token has 2) set otherwise:
    // each decodes, leniently, to the same bytes.
    private static IEnumerable<string> Respellings(string token)
    {
        Assert.That(token, Has.Length.EqualTo(75), "56 bytes, base64url without padding");
        yield return token + "=";
        yield return token + "==";
        var last = Alphabet.IndexOf(token[^1], StringComparison.Ordinal);
        for (var bits = 1; bits <= 3; bits++)
        {
            yield return token[..^1] + Alphabet[last ^ bits];
        }
    }

    private static async Task<string> SignInAsync(RunningServer server, CancellationToken cancellationToken)
    {
        using var http = new HttpClient { BaseAddress = server.Server.WebEndpoint };
        using var signIn = await http.PostAsJsonAsync("/api/session", new { key = Key }, cancellationToken);
        var cookie = signIn.Headers.GetValues("Set-Cookie").Single().Split(';')[0];
        return cookie[(cookie.IndexOf('=', StringComparison.Ordinal) + 1)..];
    }

    private static async Task<HttpStatusCode> SignOutAsync(RunningServer server, string token, CancellationToken cancellationToken)
    {
        using var http = new HttpClient { BaseAddress = server.Server.WebEndpoint };
        using var request = new HttpRequestMessage(HttpMethod.Delete, "/api/session");
        request.Headers.Add("Cookie", "chroma_studio=" + token);
        using var response = await http.SendAsync(request, cancellationToken);
        return response.StatusCode;
    }

    private static async Task<HttpStatusCode> GetSetsAsync(RunningServer server, string token, CancellationToken cancellationToken)
    {
        using var http = new HttpClient { BaseAddress = server.Server.WebEndpoint };
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/sets");
        request.Headers.Add("Cookie", "chroma_studio=" + token);
        using var response = await http.SendAsync(request, cancellationToken);
        return response.StatusCode;
    }
}
