using Chroma.Server.Services.Internal;
using Microsoft.Extensions.Time.Testing;

namespace Chroma.Server.Tests.Services;

/// <summary>The ingest stream's idle clock on a fake time provider: no waiting, no wall-clock timing.</summary>
[TestFixture]
public sealed class IngestStreamIdleTimerTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(5);

    [Test]
    public void Timer_TimeoutZero_NeverFires()
    {
        // Arrange
        var clock = new FakeTimeProvider();
        using var timer = new IngestStreamIdleTimer(TimeSpan.Zero, clock);
        timer.BatchReceived();
        timer.AckWritten();

        // Act: far past any timeout the server allows (1 day).
        clock.Advance(TimeSpan.FromDays(365));

        // Assert
        Assert.Multiple(() =>
        {
            Assert.That(timer.Fired, Is.False);
            Assert.That(timer.Token.IsCancellationRequested, Is.False);
        });
    }

    [Test]
    public void Timer_IdleForTimeout_FiresOnlyWhenItIsUp()
    {
        // Arrange
        var clock = new FakeTimeProvider();
        using var timer = new IngestStreamIdleTimer(Timeout, clock);

        // Act
        clock.Advance(Timeout - TimeSpan.FromMilliseconds(1));
        var firedEarly = timer.Fired;
        clock.Advance(TimeSpan.FromMilliseconds(1));

        // Assert
        Assert.Multiple(() =>
        {
            Assert.That(firedEarly, Is.False, "one millisecond before the timeout");
            Assert.That(timer.Fired, Is.True);
            Assert.That(timer.Token.IsCancellationRequested, Is.True);
        });
    }

    [Test]
    public void Timer_BatchInFlight_ClockStopsUntilItsAck()
    {
        // Arrange
        var clock = new FakeTimeProvider();
        using var timer = new IngestStreamIdleTimer(Timeout, clock);
        clock.Advance(Timeout / 2);

        // Act: a slow commit outlasts the timeout; after its ack the clock starts over.
        timer.BatchReceived();
        clock.Advance(Timeout * 3);
        var firedWhileBusy = timer.Fired;
        timer.AckWritten();
        clock.Advance(Timeout - TimeSpan.FromMilliseconds(1));
        var firedBeforeTimeoutAfterAck = timer.Fired;
        clock.Advance(TimeSpan.FromMilliseconds(1));

        // Assert
        Assert.Multiple(() =>
        {
            Assert.That(firedWhileBusy, Is.False, "a batch waiting for its ack is not idleness");
            Assert.That(firedBeforeTimeoutAfterAck, Is.False, "the clock restarts at the ack");
            Assert.That(timer.Fired, Is.True);
        });
    }
}
