using Chroma.Protocol.V1;
using Chroma.Server.Services.Internal;
using Chroma.Server.Tests.TestSupport;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using NUnit.Framework;

namespace Chroma.Server.Tests.Services;

/// <summary>The server's count of unary gRPC calls, which background conveniences wait on to keep out of queries' way.</summary>
public class GrpcActivityTests
{
    private static readonly EmbeddingSetDescriptor Set = Records.Set(dimension: 4);

    [Test]
    public void QuietFor_CallsBeginAndEnd_QuietOnlyWithNoneInFlightForThePeriod()
    {
        var clock = new FakeTimeProvider();
        var activity = new GrpcActivity(clock);
        var period = TimeSpan.FromSeconds(2);

        var atStart = activity.QuietFor(period);
        clock.Advance(period);
        var afterAStillStart = activity.QuietFor(period);
        activity.Begin();
        clock.Advance(TimeSpan.FromMinutes(5));
        var duringALongCall = activity.QuietFor(period);
        activity.End();
        clock.Advance(period - TimeSpan.FromMilliseconds(1));
        var justUnderThePeriod = activity.QuietFor(period);
        clock.Advance(TimeSpan.FromMilliseconds(1));

        Assert.Multiple(() =>
        {
            Assert.That(atStart, Is.False, "a server just started counts as busy");
            Assert.That(afterAStillStart, Is.True);
            Assert.That(duringALongCall, Is.False, "a call in flight, however long");
            Assert.That(justUnderThePeriod, Is.False);
            Assert.That(activity.QuietFor(period), Is.True);
            Assert.That(activity.InFlight, Is.Zero);
        });
    }

    [Test, CancelAfter(60_000)]
    public async Task Interceptor_WaitingUnaryCallAndOpenLogStream_CountsOnlyTheUnaryCallWhileItRuns(CancellationToken cancellationToken)
    {
        await using var server = await RunningServer.StartAsync();
        var training = Enumerable.Range(0, 20).Select(i => Records.Make([i % 2 == 0 ? 5 : -5, i * 0.1f, 0, 0], "training", i % 2 == 0 ? "a" : "b"));
        var production = Enumerable.Range(0, 6).Select(i => Records.Make([i - 3, i, 1, 0], "production"));
        var acks = await server.LogAsync(Records.Batch(Set, [.. training]), Records.Batch(Set, [.. production]));
        Assert.That(acks.Select(a => a.Error), Has.All.Null);
        var activity = server.Server.Services.GetRequiredService<GrpcActivity>();
        using var stream = server.Ingest.Log(cancellationToken: cancellationToken);
        await stream.RequestStream.WriteAsync(Records.Batch(Set, [Records.Make([1, 2, 3, 4], "production")]), cancellationToken);
        Assert.That(await stream.ResponseStream.MoveNext(cancellationToken), Is.True);
        var withAStreamOpen = activity.InFlight;

        // A ranking asked to cover a sequence never stored waits out its timeout: a unary call in flight for 3 s.
        var waiting = server.Query.GetRecommendationsAsync(
            new GetRecommendationsRequest { SetId = Records.SetId(Set), WaitThroughSequence = 1_000_000, WaitTimeoutMs = 3_000 },
            deadline: DateTime.UtcNow + TimeSpan.FromSeconds(30), cancellationToken: cancellationToken).ResponseAsync;
        var seenInFlight = 0;
        while (!waiting.IsCompleted)
        {
            seenInFlight = Math.Max(seenInFlight, activity.InFlight);
            await Task.Delay(20, cancellationToken);
        }

        var response = await waiting;
        Assert.Multiple(() =>
        {
            Assert.That(response.CoversRequest, Is.False);
            Assert.That(withAStreamOpen, Is.Zero, "an open log stream is not counted");
            Assert.That(seenInFlight, Is.GreaterThanOrEqualTo(1), "the waiting call");
            Assert.That(activity.InFlight, Is.Zero, "ended when answered");
            Assert.That(activity.QuietFor(TimeSpan.FromSeconds(20)), Is.False, "a call just ended");
        });
    }
}
