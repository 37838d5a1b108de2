using System.Net;
using System.Net.Http.Json;
using Chroma.Server.Tests.TestSupport;
using Chroma.Server.Web.Internal;

namespace Chroma.Server.Tests.Web;

/// <summary>Studio's sign-in slows down guessing: a few wrong keys per address, then 429 until the minute is out.</summary>
[TestFixture]
public sealed class SignInThrottleTests
{
    [Test]
    [CancelAfter(60_000)]
    public async Task SignIn_TooManyWrongKeys_429WithRetryAfterAndEvenTheRightKeyWaits(CancellationToken cancellationToken)
    {
        await using var server = await RunningServer.StartAsync(apiKey: "right-key-7");
        using var http = new HttpClient { BaseAddress = server.Server.WebEndpoint };

        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < StudioSessions.SignInFailuresAllowed; i++)
        {
            using var wrong = await http.PostAsJsonAsync("/api/session", new { key = "guess-" + i }, cancellationToken);
            statuses.Add(wrong.StatusCode);
        }

        using var throttled = await http.PostAsJsonAsync("/api/session", new { key = "right-key-7" }, cancellationToken);
        var body = await throttled.Content.ReadAsStringAsync(cancellationToken);

        Assert.Multiple(() =>
        {
            Assert.That(statuses, Is.All.EqualTo(HttpStatusCode.Unauthorized));
            Assert.That(throttled.StatusCode, Is.EqualTo(HttpStatusCode.TooManyRequests));
            Assert.That(throttled.Headers.RetryAfter?.Delta?.TotalSeconds, Is.InRange(1, 60));
            Assert.That(body, Does.Contain("too many wrong keys"));
            Assert.That(throttled.Headers.Contains("Set-Cookie"), Is.False, "no session while throttled");
        });
    }
}
