using Chroma;
using Microsoft.Extensions.Logging;

namespace Chroma.IntegrationTests.Outage;

/// <summary>
/// A client given Studio's web port (HTTP/1.1) instead of the gRPC port: told so, not retried for ever
/// (outside-in probe b, 9).
/// </summary>
[TestFixture]
public sealed class StudioPortEndpointTests
{
    [Test, CancelAfter(60_000)]
    public async Task Log_EndpointIsStudiosWebPort_RecordsFailedNotRetriedAndErrorNamesTheEndpoint(CancellationToken cancellationToken)
    {
        // Arrange
        await using var server = await ServerFixture.StartAsync();
        var web = server.Server.WebEndpoint ?? throw new InvalidOperationException("Studio is enabled by default.");
        var logs = new RecordingLoggerFactory();
        var client = new ChromaClient(new ChromaClientOptions
        {
            Endpoint = web,
            LoggerFactory = logs,
            MaxBatchSize = 1,
            FlushInterval = TimeSpan.FromMilliseconds(10),
            DrainTimeout = TimeSpan.FromSeconds(5),
            Retry = new ChromaRetryOptions { BaseDelay = TimeSpan.FromMilliseconds(10), MaxDelay = TimeSpan.FromMilliseconds(50) },
        });
        var set = client.GetEmbeddingSet(new EmbeddingSetDescriptor("it-studio-port", "1", "fc", 4));

        // Act
        for (var i = 0; i < 3; i++)
        {
            set.LogProduction([i, 0, 0, 0], "1");
        }

        // Retried for ever (as before), the flush would never end.
        await client.FlushAsync(cancellationToken).WaitAsync(TimeSpan.FromSeconds(30), cancellationToken);
        var query = Assert.ThrowsAsync<ChromaException>(() => client.ListSetsAsync(cancellationToken));
        await client.DisposeAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(20), cancellationToken);

        // Assert
        var expected = $"the endpoint {web} answers HTTP/1.1 only; Chroma's gRPC endpoint speaks HTTP/2 (is this Studio's web port?)";
        var messages = logs.Messages.ToList();
        Assert.Multiple(() =>
        {
            Assert.That(client.Statistics.Failed, Is.EqualTo(3), "counted as failed, as for a wrong API key");
            Assert.That(client.Statistics.Exported, Is.Zero);
            // One error per status the transport reports it with (Internal or Unavailable, by timing). The first try may
            // also fail with "the server did not complete the HTTP/2 handshake", which stays transient (a proxy or a
            // server going down can cause it too): retried until the endpoint answers HTTP_1_1_REQUIRED.
            Assert.That(messages.Where(m => m.Level == LogLevel.Error).Select(m => m.Message), Has.Some.Contains(expected));
            Assert.That(query!.Message, Does.Contain(expected));
        });
    }
}
