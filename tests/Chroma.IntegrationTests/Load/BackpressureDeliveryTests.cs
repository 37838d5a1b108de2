using Chroma;
using Chroma.IntegrationTests.Ingest;
using Chroma.IntegrationTests.Outage;
using Chroma.Server.Hosting;
using Chroma.Server.Services.Internal;
using Microsoft.Extensions.DependencyInjection;

namespace Chroma.IntegrationTests.Load;

[TestFixture]
public sealed class BackpressureDeliveryTests
{
    private const int Dimension = 16;

    // ChromaClientLog.ServerBusy: "Chroma server is shedding load; batch re-sent after {DelayMs} ms."
    private const int ServerBusyEventId = 8;

    [Test, CancelAfter(120_000)]
    public async Task Log_FourClientsAgainstTinyIngestQueue_ServerShedsAndEveryRecordStoredExactlyOnce(CancellationToken cancellationToken)
    {
        // Arrange: a queue of 100 records, far below 4 clients x 4 batches in flight x 100 records.
        const int clients = 4;
        const int perClient = 3_000;
        var dataDirectory = Path.Combine(Path.GetTempPath(), "chroma-bp-" + Guid.NewGuid().ToString("N"));
        await using var server = await ChromaServer.StartAsync(
            new ChromaServerOptions
            {
                Host = "127.0.0.1",
                Port = 0,
                DataDirectory = dataDirectory,
                Ingest = { MaxPendingRecords = 100, RetryAfter = TimeSpan.FromMilliseconds(20) },
            },
            cancellationToken);
        var logs = new RecordingLoggerFactory();
        var descriptor = new EmbeddingSetDescriptor("it-backpressure", "1", "fc", Dimension);
        var chromaClients = Enumerable.Range(0, clients).Select(_ => new ChromaClient(new ChromaClientOptions
        {
            Endpoint = server.Endpoint,
            QueueCapacity = perClient,
            MaxBatchSize = 100,
            MaxBatchesInFlight = 4,
            FlushInterval = TimeSpan.FromMilliseconds(10),
            LoggerFactory = logs,
        })).ToList();

        // Act: every client logs its records from its own thread, then flushes.
        await Task.WhenAll(chromaClients.Select((client, p) => Task.Run(
            async () =>
            {
                var set = client.GetEmbeddingSet(descriptor);
                var vector = new float[Dimension];
                for (var i = 0; i < perClient; i++)
                {
                    RecordCodec.Encode(vector, p, i);
                    Assert.That(set.LogTraining(vector), Is.True, "queued");
                }

                await client.FlushAsync(cancellationToken);
            },
            cancellationToken)));

        // Assert
        var shed = server.Services.GetRequiredService<BatchIngestor>().Admission.ShedBatches;
        var seen = await StoredRecords.ReadAllKeysAsync(chromaClients[0], descriptor.Id, cancellationToken);
        var statistics = chromaClients.Select(c => c.Statistics).ToList();
        foreach (var client in chromaClients)
        {
            await client.DisposeAsync();
        }

        await TestContext.Out.WriteLineAsync($"backpressure: {shed} batches shed with ResourceExhausted, {seen.Count} records stored");
        Assert.Multiple(() =>
        {
            Assert.That(shed, Is.GreaterThan(0), "the tiny queue made the server shed batches");
            Assert.That(logs.Messages.Count(m => m.Event.Id == ServerBusyEventId), Is.GreaterThan(0), "clients saw ResourceExhausted");
            Assert.That(statistics.Sum(s => s.Exported), Is.EqualTo(clients * perClient), "exported");
            Assert.That(statistics.Sum(s => s.Failed + s.Dropped), Is.Zero, "failed or dropped");
        });
        StoredRecords.AssertExactlyOnce(seen, clients, perClient);
        await server.DisposeAsync();
        TryDelete(dataDirectory);
    }

    private static void TryDelete(string directory)
    {
        try
        {
            Directory.Delete(directory, recursive: true);
        }
        catch (IOException)
        {
            // A handle still closing: leave the temp folder behind.
        }
    }
}
