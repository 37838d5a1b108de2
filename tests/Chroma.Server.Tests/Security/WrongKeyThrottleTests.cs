using System.Net;
using Chroma.Server.Security;
using Microsoft.Extensions.Time.Testing;

namespace Chroma.Server.Tests.Security;

/// <summary>Guessing the API key is slowed down per address: a few wrong keys, then refused until the window is out.</summary>
[TestFixture]
public sealed class WrongKeyThrottleTests
{
    private static readonly IPAddress A = IPAddress.Parse("10.0.0.1");
    private static readonly IPAddress B = IPAddress.Parse("10.0.0.2");
    private static readonly TimeSpan Window = TimeSpan.FromMinutes(1);
    private const int FailuresAllowed = 5;

    [Test]
    public void RetryAfter_FailuresUpToTheAllowance_NoWaitThenTheRestOfTheWindow()
    {
        var time = new FakeTimeProvider(DateTimeOffset.Parse("2026-12-05T06:00:00Z", System.Globalization.CultureInfo.InvariantCulture));
        var throttle = new WrongKeyThrottle(time, FailuresAllowed, Window);

        var waits = new List<TimeSpan?>();
        for (var i = 0; i < FailuresAllowed; i++)
        {
            waits.Add(throttle.RetryAfter(A));
            throttle.Failed(A);
            time.Advance(TimeSpan.FromSeconds(2));
        }

        var blocked = throttle.RetryAfter(A);
        var other = throttle.RetryAfter(B);
        time.Advance(Window);
        var later = throttle.RetryAfter(A);

        Assert.Multiple(() =>
        {
            Assert.That(waits, Is.All.Null, "the first wrong keys are answered as wrong, not throttled");
            Assert.That(blocked, Is.EqualTo(Window - TimeSpan.FromSeconds(2 * FailuresAllowed)), "until the window of the first failure ends");
            Assert.That(other, Is.Null, "another address is not affected");
            Assert.That(later, Is.Null, "after the window the address may try again");
        });
    }

    [Test]
    public void Succeeded_AfterFailures_ClearsTheCount()
    {
        var time = new FakeTimeProvider();
        var throttle = new WrongKeyThrottle(time, FailuresAllowed, Window);
        for (var i = 0; i < FailuresAllowed - 1; i++)
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
        var throttle = new WrongKeyThrottle(time, FailuresAllowed, Window);
        for (var i = 1; i <= FailuresAllowed; i++)
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
            Assert.That(WrongKeyThrottle.Source(IPAddress.Parse("::ffff:10.0.0.1")), Is.EqualTo(A), "an IPv4-mapped address counts as its IPv4 address");
            Assert.That(WrongKeyThrottle.Source(A), Is.EqualTo(A));
            Assert.That(WrongKeyThrottle.Source(IPAddress.Parse("2001:db8:5:7:1:2:3:4")), Is.EqualTo(IPAddress.Parse("2001:db8:5:7::")));
        });
    }

    [Test]
    public void Failed_MoreAddressesThanTheCap_NewOnesUncountedUntilWindowsEndOldOnesStillCounted()
    {
        // Arrange: every slot holds an address one wrong key short of the limit.
        var time = new FakeTimeProvider();
        var throttle = new WrongKeyThrottle(time, 2, Window);
        static IPAddress Nth(int i) => new([10, 0, (byte)(i >> 8), (byte)i]);
        for (var i = 0; i < WrongKeyThrottle.MaxAddresses; i++)
        {
            throttle.Failed(Nth(i));
        }

        // Act
        var newcomer = IPAddress.Parse("192.0.2.1");
        throttle.Failed(newcomer);
        throttle.Failed(newcomer);
        throttle.Failed(Nth(0));
        var newcomerWhileFull = throttle.RetryAfter(newcomer);
        var oldWhileFull = throttle.RetryAfter(Nth(0));
        time.Advance(Window);
        throttle.Failed(newcomer);
        throttle.Failed(newcomer);

        // Assert
        Assert.Multiple(() =>
        {
            Assert.That(newcomerWhileFull, Is.Null, "no slot for a new address while every one counts a live window");
            Assert.That(oldWhileFull, Is.Not.Null, "an address already counted still reaches the limit");
            Assert.That(throttle.RetryAfter(newcomer), Is.Not.Null, "once the windows ended, their slots are reused");
        });
    }
}
