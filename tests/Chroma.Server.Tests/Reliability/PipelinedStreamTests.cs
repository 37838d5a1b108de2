using Chroma.Protocol.V1;
using Chroma.Server.Tests.TestSupport;
using Grpc.Core;

namespace Chroma.Server.Tests.Reliability;

[TestFixture]
public sealed class PipelinedStreamTests
{
    [Test, CancelAfter(30_000)]
    public async Task Log_ThirtyBatchesWrittenWithoutWaiting_OneAckEachInArrivalOrderAllStored()
    {
        // Arrange: good and bad batches interleaved, more than the server's per-stream window.
        await using var server = await RunningServer.StartAsync();
        var set = Records.Set(model: "pipelined");
        var batches = Enumerable.Range(0, 30).Select(i =>
        {
            var batch = Records.Batch(set, Records.Sequence(10, start: i * 10));
            if (i % 7 == 3)
            {
                batch.Records[4].Embedding[0] = float.NaN;
            }

            return batch;
        }).ToList();

        // Act
        using var call = server.Ingest.Log(deadline: DateTime.UtcNow.AddSeconds(20));
        foreach (var batch in batches)
        {
            await call.RequestStream.WriteAsync(batch);
        }

        await call.RequestStream.CompleteAsync();
        var acks = new List<LogAck>();
        while (await call.ResponseStream.MoveNext(CancellationToken.None))
        {
            acks.Add(call.ResponseStream.Current);
        }

        // Assert
        var count = await server.Query.CountRecordsAsync(new CountRecordsRequest { SetId = Records.SetId(set) });
        var rejected = batches.Where((_, i) => i % 7 == 3).Select(b => b.BatchId).ToList();
        Assert.Multiple(() =>
        {
            Assert.That(acks.Select(a => a.BatchId), Is.EqualTo(batches.Select(b => b.BatchId)), "one ack per batch, in arrival order");
            Assert.That(acks.Where(a => a.Error is not null).Select(a => a.BatchId), Is.EqualTo(rejected));
            Assert.That(acks.Where(a => a.Error is not null).All(a => a.Error.Code == (int)StatusCode.InvalidArgument && a.Error.RecordIndex == 4), Is.True);
            Assert.That(count.Count, Is.EqualTo((30 - rejected.Count) * 10));
        });
    }
}
