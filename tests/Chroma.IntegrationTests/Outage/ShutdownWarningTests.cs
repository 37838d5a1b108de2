using Chroma;
using Microsoft.Extensions.Logging;

namespace Chroma.IntegrationTests.Outage;

/// <summary>The outage warning after a server shutdown carries a status and words, not "(Cancelled: )" (outside-in probe b, 10).</summary>
[TestFixture]
public sealed class ShutdownWarningTests
{
    [Test, CancelAfter(60_000)]
    public async Task Log_ServerShutsDownUnderAnOpenStream_WarningCarriesAUsefulStatus(CancellationToken cancellationToken)
    {
        // Arrange
        var server = await ServerFixture.StartAsync();
        var logs = new RecordingLoggerFactory();
        var client = new ChromaClient(new ChromaClientOptions
        {
            Endpoint = server.Endpoint,
            LoggerFactory = logs,
            MaxBatchSize = 100,
            FlushInterval = TimeSpan.FromMilliseconds(10),
            DrainTimeout = TimeSpan.FromMilliseconds(500),
            Retry = new ChromaRetryOptions { BaseDelay = TimeSpan.FromMilliseconds(10), MaxDelay = TimeSpan.FromMilliseconds(100) },
        });
        var set = client.GetEmbeddingSet(new EmbeddingSetDescriptor("it-shutdown-warning", "1", "fc", 4));
        for (var i = 0; i < 500; i++)
        {
            set.LogTraining([i, 0, 0, 0], "0");
        }

        await client.FlushAsync(cancellationToken);

        // Act
        for (var i = 0; i < 500; i++)
        {
            set.LogProduction([i, 1, 0, 0], "0");
        }

        await server.DisposeAsync();
        string? warning = null;
        while (warning is null)
        {
            warning = logs.Messages.FirstOrDefault(m => m.Message.StartsWith("Chroma cannot deliver to the server", StringComparison.Ordinal)).Message;
            await Task.Delay(20, cancellationToken);
        }

        await client.DisposeAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(20), cancellationToken);
        await TestContext.Out.WriteLineAsync(warning);

        // Assert
        Assert.Multiple(() =>
        {
            Assert.That(warning, Does.Not.Contain("(Cancelled: )"));
            // Which status depends on where the shutdown meets the stream (seen: Unavailable with the server's message,
            // Cancelled with the torn-down stream explained, Internal with the closed HTTP/2 connection); each says what it means.
            Assert.That(warning, Does.Match(@"\((Unavailable|Cancelled|Internal): \S"), "a status and what it means");
            Assert.That(warning, Does.Not.Contain("up to 0 s apart"), "a delay under a second is not written as 0 s");
        });
    }
}
