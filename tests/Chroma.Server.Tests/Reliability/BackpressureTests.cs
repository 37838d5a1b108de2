using Chroma.Protocol.V1;
using Chroma.Server.Services.Internal;
using Chroma.Server.Tests.TestSupport;
using Grpc.Core;
using Microsoft.Extensions.DependencyInjection;

namespace Chroma.Server.Tests.Reliability;

[TestFixture]
public sealed class BackpressureTests
{
    [Test, CancelAfter(60_000)]
    public async Task Log_ManyPipelinedStreamsIntoTinyQueue_ShedsWithResourceExhaustedAndStoresOnlyAccepted()
    {
        // Arrange: room for 50 waiting records; four streams each pipeline twenty 50-record batches.
        await using var server = await RunningServer.StartAsync(o =>
        {
            o.Ingest.MaxPendingRecords = 50;
            o.Ingest.RetryAfter = TimeSpan.FromMilliseconds(250);
        });
        var set = Records.Set(model: "backpressure");
        var streams = Enumerable.Range(0, 4)
            .Select(s => Enumerable.Range(0, 20).Select(b => Records.Batch(set, Records.Sequence(50, start: (s * 10_000) + (b * 50)))).ToList())
            .ToList();

        // Act
        var acks = (await Task.WhenAll(streams.Select(batches => server.LogPipelinedAsync(batches, TimeSpan.FromSeconds(50))))).SelectMany(a => a).ToList();

        // Assert
        var shed = acks.Where(a => a.Error?.Code == (int)StatusCode.ResourceExhausted).ToList();
        var count = await server.Query.CountRecordsAsync(new CountRecordsRequest { SetId = Records.SetId(set) });
        var admission = server.Server.Services.GetRequiredService<BatchIngestor>().Admission;
        Assert.Multiple(() =>
        {
            Assert.That(acks, Has.Count.EqualTo(80), "one ack per batch");
            Assert.That(shed, Is.Not.Empty, "the tiny queue shed batches");
            Assert.That(shed.Select(a => a.Error.RetryAfterMs).Distinct(), Is.EqualTo(new[] { 250L }));
            Assert.That(shed.Select(a => a.Error.RecordIndex).Distinct(), Is.EqualTo(new[] { -1 }));
            Assert.That(shed[0].Error.Message, Does.StartWith("records: the server's ingest queue is full (50 records)"));
            Assert.That(admission.ShedBatches, Is.EqualTo(shed.Count));
            Assert.That(admission.PendingRecords, Is.Zero, "every admitted batch released its room");
            Assert.That(count.Count, Is.EqualTo(acks.Sum(a => a.Accepted)), "exactly the accepted batches were stored");
            Assert.That(acks.Where(a => a.Error is not null).All(a => a.Error.Code == (int)StatusCode.ResourceExhausted), Is.True);
        });
    }
}
