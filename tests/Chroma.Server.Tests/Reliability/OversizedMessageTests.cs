using Chroma.Protocol.V1;
using Chroma.Server.Tests.TestSupport;
using Grpc.Core;

namespace Chroma.Server.Tests.Reliability;

[TestFixture]
public sealed class OversizedMessageTests
{
    [Test, CancelAfter(30_000)]
    public async Task Log_MessageOverSizeLimit_EndsThatStreamResourceExhaustedWhileOtherStreamKeepsServing()
    {
        // Arrange: a 64 KiB limit; 40 records of 512-d are about 85 KiB.
        await using var server = await RunningServer.StartAsync(o => o.Limits.MaxMessageBytes = 64 * 1024);
        var set = Records.Set(dimension: 512, model: "oversized");
        using var other = server.Ingest.Log(deadline: DateTime.UtcNow.AddSeconds(20));
        await other.RequestStream.WriteAsync(Records.Batch(set, Records.Sequence(2, dimension: 512)));
        Assert.That(await other.ResponseStream.MoveNext(CancellationToken.None), Is.True);

        // Act
        using var big = server.Ingest.Log(deadline: DateTime.UtcNow.AddSeconds(20));
        try
        {
            await big.RequestStream.WriteAsync(Records.Batch(set, Records.Sequence(40, dimension: 512, start: 100)));
        }
        catch (RpcException)
        {
            // The server may end the call while the write is still going out (the write then sees Cancelled); the
            // call's status is read from the response stream below.
        }

        var ex = Assert.ThrowsAsync<RpcException>(async () => await big.ResponseStream.MoveNext(CancellationToken.None));
        await other.RequestStream.WriteAsync(Records.Batch(set, Records.Sequence(3, dimension: 512, start: 200)));
        var otherServed = await other.ResponseStream.MoveNext(CancellationToken.None);
        await other.RequestStream.CompleteAsync();

        // Assert
        var count = await server.Query.CountRecordsAsync(new CountRecordsRequest { SetId = Records.SetId(set) });
        Assert.Multiple(() =>
        {
            Assert.That(ex!.StatusCode, Is.EqualTo(StatusCode.ResourceExhausted));
            Assert.That(ex.Status.Detail, Does.Contain("larger than the server's message limit of 65536 bytes"));
            Assert.That(otherServed, Is.True);
            Assert.That(other.ResponseStream.Current.Accepted, Is.EqualTo(3), "the other stream still serves");
            Assert.That(count.Count, Is.EqualTo(5), "nothing of the oversized batch was stored");
        });
    }
}
