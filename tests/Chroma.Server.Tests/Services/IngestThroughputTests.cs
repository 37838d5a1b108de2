using System.Diagnostics;
using Chroma.Protocol.V1;
using Chroma.Server.Tests.TestSupport;

namespace Chroma.Server.Tests.Services;

[TestFixture]
public sealed class IngestThroughputTests
{
    [Test, CancelAfter(120_000)]
    public async Task Log_FourStreamsOf128dBatches_AllAcceptedAndRateReported()
    {
        // Arrange: 4 streams x 10 batches x 1000 records of 128-d, batches built up front.
        const int streams = 4;
        const int batchesPerStream = 10;
        const int perBatch = 1_000;
        await using var server = await RunningServer.StartAsync();
        var set = Records.Set(dimension: 128, model: "throughput");
        var random = new Random(11);
        var work = Enumerable.Range(0, streams).Select(_ => Enumerable.Range(0, batchesPerStream).Select(_ =>
            Records.Batch(set, [.. Enumerable.Range(0, perBatch).Select(_ =>
                Records.Make([.. Enumerable.Range(0, 128).Select(_ => (float)random.NextDouble())]))])).ToList()).ToList();

        // Act: each stream writes its batches without waiting, while a reader collects the acks.
        var cpuBefore = Process.GetCurrentProcess().TotalProcessorTime;
        var stopwatch = Stopwatch.StartNew();
        var acks = await Task.WhenAll(work.Select(batches => server.LogPipelinedAsync(batches, TimeSpan.FromSeconds(100))));
        stopwatch.Stop();
        var cpu = Process.GetCurrentProcess().TotalProcessorTime - cpuBefore;

        // Assert
        var total = streams * batchesPerStream * perBatch;
        var rate = total / stopwatch.Elapsed.TotalSeconds;
        await TestContext.Out.WriteLineAsync(
            $"gRPC ingest: {total:N0} records of 128-d over {streams} streams in {stopwatch.Elapsed.TotalSeconds:F2} s = {rate:N0} records/s " +
            $"(client and server CPU {cpu.TotalSeconds:F2} s = {total / cpu.TotalSeconds:N0} records per CPU-second)");
        var count = await server.Query.CountRecordsAsync(new CountRecordsRequest { SetId = Records.SetId(set) });
        Assert.Multiple(() =>
        {
            Assert.That(acks.SelectMany(a => a).Sum(a => a.Accepted), Is.EqualTo(total));
            Assert.That(count.Count, Is.EqualTo(total));
        });
    }
}
