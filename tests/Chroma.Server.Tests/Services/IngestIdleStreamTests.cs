using Chroma.Server.Tests.TestSupport;
using Grpc.Core;

namespace Chroma.Server.Tests.Services;

[TestFixture]
public sealed class IngestIdleStreamTests
{
    [Test, CancelAfter(60_000)]
    public async Task Log_StreamIdleAfterAck_ServerClosesItWithUnavailable()
    {
        // Arrange
        await using var server = await RunningServer.StartAsync(o => o.Ingest.StreamIdleTimeout = TimeSpan.FromMilliseconds(300));
        using var call = server.Ingest.Log(deadline: DateTime.UtcNow.AddSeconds(30));
        await call.RequestStream.WriteAsync(Records.Batch(Records.Set(), Records.Sequence(3)));
        Assert.That(await call.ResponseStream.MoveNext(CancellationToken.None), Is.True);
        var ack = call.ResponseStream.Current;

        // Act: send nothing more; wait for the server's side of the stream to end (the call's deadline bounds it).
        var ended = Assert.ThrowsAsync<RpcException>(async () => await call.ResponseStream.MoveNext(CancellationToken.None));

        // Assert
        Assert.Multiple(() =>
        {
            Assert.That(ack.Accepted, Is.EqualTo(3), "the batch before the idle time was stored and acked");
            Assert.That(ended!.StatusCode, Is.EqualTo(StatusCode.Unavailable));
            Assert.That(ended.Status.Detail, Does.Contain("idle"));
        });
    }

    // That a zero timeout never fires however long the stream idles is IngestStreamIdleTimerTests' part (fake clock);
    // here: zero passes validation and reaches the stream as "no timer", not as "already timed out".
    [Test, CancelAfter(60_000)]
    public async Task Log_IdleTimeoutZero_StreamStaysOpen()
    {
        // Arrange
        await using var server = await RunningServer.StartAsync(o => o.Ingest.StreamIdleTimeout = TimeSpan.Zero);
        using var call = server.Ingest.Log(deadline: DateTime.UtcNow.AddSeconds(30));
        await call.RequestStream.WriteAsync(Records.Batch(Records.Set(), Records.Sequence(1)));
        Assert.That(await call.ResponseStream.MoveNext(CancellationToken.None), Is.True);

        // Act: send again on the same stream after its first ack.
        await call.RequestStream.WriteAsync(Records.Batch(Records.Set(), Records.Sequence(2, start: 5)));

        // Assert
        Assert.That(await call.ResponseStream.MoveNext(CancellationToken.None), Is.True);
        Assert.That(call.ResponseStream.Current.Accepted, Is.EqualTo(2));
    }
}
