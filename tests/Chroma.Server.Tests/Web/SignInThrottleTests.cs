using System.Net;
using System.Net.Http.Json;
using Chroma.Server.Tests.TestSupport;
using Chroma.Server.Web.Internal;
using Microsoft.Extensions.Time.Testing;

namespace Chroma.Server.Tests.Web;

/// <summary>Studio's sign-in slows down guessing: a few wrong keys per address, then 429 until the minute is out.</summary>
[TestFixture]
public sealed class SignInThrottleTests
{
    private static readonly IPAddress A = IPAddress.Parse("10.0.0.1");
    private static readonly IPAddress B = IPAddress.Parse("10.0.0.2");

    [Test]
    public void RetryAfter_FailuresUpToTheAllowance_NoWaitThenTheRestOfTheWindow()
    {
        var time = new FakeTimeProvider(DateTimeOffset.Parse("2026-12-05T06:00:00Z", System.Globalization.CultureInfo.InvariantCulture));
        var throttle = new SignInThrottle(time);

        var waits = new List<TimeSpan?>();
        for (var i = 0; i < SignInThrottle.FailuresAllowed; i++)
        {
            waits.Add(throttle.RetryAfter(A));
            throttle.Failed(A);
            time.Advance(TimeSpan.FromSeconds(2));
        }

        var blocked = throttle.RetryAfter(A);
        var other = throttle.RetryAfter(B);
        time.Advance(SignInThrottle.Window);
        var later = throttle.RetryAfter(A);

        Assert.Multiple(() =>
        {
            Assert.That(waits, Is.All.Null, "the first wrong keys are answered as wrong, not throttled");
            Assert.That(blocked, Is.EqualTo(SignInThrottle.Window - TimeSpan.FromSeconds(2 * SignInThrottle.FailuresAllowed)), "until the window of the first failure ends");
            Assert.That(other, Is.Null, "another address is not affected");
            Assert.That(later, Is.Null, "after the window the address may try again");
        });
    }

    [Test]
    public void Succeeded_AfterFailures_ClearsTheCount()
    {
        var time = new FakeTimeProvider();
        var throttle = new SignInThrottle(time);
        for (var i = 0; i < SignInThrottle.FailuresAllowed - 1; i++)
        {
            throttle.Failed(A);
        }

        throttle.Succeeded(A);
        throttle.Failed(A);

        Assert.That(throttle.RetryAfter(A), Is.Null, "one failure after a sign-in is far from the limit");
    }

    [Test]
    public void RetryAfter_WrongKeysFromManyAddressesOfOneIPv6Slash64_CountTogetherOtherNetworksNot()
    {
        var time = new FakeTimeProvider();
        var throttle = new SignInThrottle(time);
        for (var i = 1; i <= SignInThrottle.FailuresAllowed; i++)
        {
            throttle.Failed(IPAddress.Parse($"2001:db8:5:7:{i:x}::{i:x}"));
        }

        Assert.Multiple(() =>
        {
            Assert.That(throttle.RetryAfter(IPAddress.Parse("2001:db8:5:7:ffff::1")), Is.Not.Null, "a fresh address in the same /64 waits too");
            Assert.That(throttle.RetryAfter(IPAddress.Parse("2001:db8:5:8::1")), Is.Null, "the next /64 is another network");
        });
    }

    [Test]
    public void Source_MappedIPv4AndIPv6_TheIPv4AddressAndTheSlash64()
    {
        Assert.Multiple(() =>
        {
            Assert.That(SignInThrottle.Source(IPAddress.Parse("::ffff:10.0.0.1")), Is.EqualTo(A), "an IPv4-mapped address counts as its IPv4 address");
            Assert.That(SignInThrottle.Source(A), Is.EqualTo(A));
            Assert.That(SignInThrottle.Source(IPAddress.Parse("2001:db8:5:7:1:2:3:4")), Is.EqualTo(IPAddress.Parse("2001:db8:5:7::")));
        });
    }

    [Test]
    [CancelAfter(60_000)]
    public async Task SignIn_TooManyWrongKeys_429WithRetryAfterAndEvenTheRightKeyWaits(CancellationToken cancellationToken)
    {
        await using var server = await RunningServer.StartAsync(apiKey: "right-key-7");
        using var http = new HttpClient { BaseAddress = server.Server.WebEndpoint };

        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < SignInThrottle.FailuresAllowed; i++)
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
