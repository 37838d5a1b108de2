using System.Diagnostics;
using Proto = Chroma.Protocol.V1;
using Grpc.Net.Client;

namespace Chroma.IntegrationTests.Reliability;

/// <summary>SIGTERM with many idle ingest streams open: the process exits cleanly within its <c>ShutdownTimeout</c>.</summary>
[TestFixture]
public sealed class ShutdownTests
{
    private const int Streams = 200;

    [Test, CancelAfter(180_000)]
    public async Task Sigterm_200IdleIngestStreams_ExitsCleanlyWithinShutdownTimeout(CancellationToken cancellationToken)
    {
        // Arrange: 200 streams that each sent one batch and then stay silent.
        var dataDirectory = Path.Combine(Path.GetTempPath(), "chroma-it-stop-" + Guid.NewGuid().ToString("N"));
        await using var server = new ServerProcess(dataDirectory, ServerProcess.FreePort(), deleteDataOnDispose: true);
        server.Settings["Chroma__ShutdownTimeout"] = "00:00:03";
        await server.StartAsync(cancellationToken);
        using var channel = GrpcChannel.ForAddress(server.Endpoint);
        var client = new Proto.Ingest.IngestClient(channel);
        var calls = new List<Grpc.Core.AsyncDuplexStreamingCall<Proto.LogBatch, Proto.LogAck>>();
        var set = new Proto.EmbeddingSetDescriptor { Model = "it-stop", ModelVersion = "1", Layer = "fc", Dimension = 4 };
        for (var i = 0; i < Streams; i++)
        {
            var call = client.Log(cancellationToken: cancellationToken);
            var batch = new Proto.LogBatch { BatchId = Guid.NewGuid().ToString(), Set = set };
            var record = new Proto.Record { Id = Guid.CreateVersion7().ToString(), Dataset = "training", Label = "0", TimestampUnixMs = 1 };
            record.Embedding.AddRange([i + 1f, 1f, 0f, 0f]);
            batch.Records.Add(record);
            await call.RequestStream.WriteAsync(batch, cancellationToken);
            calls.Add(call);
        }

        foreach (var call in calls)
        {
            Assert.That(await call.ResponseStream.MoveNext(cancellationToken), Is.True, "every stream's batch is acked");
        }

        // Act
        var (elapsed, exitCode) = await server.TerminateAsync(TimeSpan.FromSeconds(60));
        await TestContext.Out.WriteLineAsync($"SIGTERM with {Streams} idle ingest streams: exited {exitCode} after {elapsed.TotalSeconds:F2} s (ShutdownTimeout 3 s)");

        // Assert: generous bound (a loaded CI machine); the mechanism is the host's ShutdownTimeout, asserted in StartFailureTests.
        Assert.Multiple(() =>
        {
            Assert.That(exitCode, Is.Zero, "a clean exit, not SIGABRT");
            Assert.That(elapsed, Is.LessThan(TimeSpan.FromSeconds(30)));
        });
        foreach (var call in calls)
        {
            call.Dispose();
        }
    }
}
