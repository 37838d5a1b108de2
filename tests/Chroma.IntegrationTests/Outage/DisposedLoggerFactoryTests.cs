using Chroma;
using Microsoft.Extensions.Logging;

namespace Chroma.IntegrationTests.Outage;

/// <summary>
/// An app that disposes its logging before the client (a top-level <c>using var</c> factory ends with Main, before the
/// process-exit drain) still gets its records delivered. Before, the gRPC channel's first call asked the disposed factory
/// for a logger, the ObjectDisposedException stopped the sender, and a short job's records were all counted failed
/// after a 5 s hang at exit (outside-in probe G, F7).
/// </summary>
[TestFixture]
public sealed class DisposedLoggerFactoryTests
{
    [Test, CancelAfter(60_000)]
    public async Task Log_LoggerFactoryDisposedBeforeTheFirstSend_DeliversEveryRecord(CancellationToken cancellationToken)
    {
        // Arrange: the client's stream is not open yet when the factory goes.
        await using var server = await ServerFixture.StartAsync();
        var loggers = LoggerFactory.Create(b => b.SetMinimumLevel(LogLevel.Trace));
        await using var client = new ChromaClient(new ChromaClientOptions { Endpoint = server.Endpoint, LoggerFactory = loggers });
        loggers.Dispose();
        var set = client.GetEmbeddingSet(new EmbeddingSetDescriptor("it-disposed-logging", "1", "fc", 4));

        // Act
        for (var i = 0; i < 200; i++)
        {
            set.LogTraining([i, 0, 0, 0], "0");
        }

        await client.FlushAsync(cancellationToken);

        // Assert
        Assert.Multiple(() =>
        {
            Assert.That(client.Statistics.Exported, Is.EqualTo(200));
            Assert.That(client.Statistics.Failed, Is.Zero);
        });
    }
}
