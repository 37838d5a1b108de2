using Chroma.Tests.Support;
using Grpc.Core;
using Microsoft.Extensions.Logging;

namespace Chroma.Tests.Transport;

/// <summary>A client pointed at an HTTP/1.1-only port (Studio's) fails once per batch instead of retrying for ever (outside-in probe b, 9).</summary>
[TestFixture]
public sealed class Http11OnlyEndpointTests
{
    private const string TransportDetail =
        "Error starting gRPC call. HttpRequestException: The HTTP/2 server closed the connection. HTTP/2 error code 'HTTP_1_1_REQUIRED' (0xd). (HttpProtocolError)";

    [Test, CancelAfter(20_000)]
    public async Task Send_StreamRefusedWithHttp11Required_NotRetriedRecordsCountedFailed(CancellationToken cancellationToken)
    {
        // Arrange
        var sessions = new ScriptedIngestSessions { FailureStatus = StatusCode.Internal, FailureDetail = TransportDetail };
        sessions.FailNextSessions(int.MaxValue);
        var logs = new RecordingLoggerProvider();
        await using var client = TestClients.Create(sessions, o =>
        {
            o.MaxBatchSize = 1;
            o.LoggerFactory = logs;
        });
        var set = client.Set();

        // Act
        for (var i = 0; i < 3; i++)
        {
            set.LogTraining([i, 0, 0, 0], "0");
            await client.FlushAsync(cancellationToken);
        }

        // Assert
        var entries = logs.Entries.ToList();
        Assert.Multiple(() =>
        {
            Assert.That(client.Statistics.Failed, Is.EqualTo(3), "every record counted as failed, as for a wrong API key");
            Assert.That(sessions.Opened, Is.EqualTo(3), "one stream per batch: none re-opened to retry");
            Assert.That(entries.Where(e => e.Message.Contains("); retry ", StringComparison.Ordinal)), Is.Empty, "no retry logged");
            Assert.That(entries.Where(e => e.Level == LogLevel.Warning), Is.Empty, "no outage warning");
            Assert.That(entries.Count(e => e.Level == LogLevel.Error), Is.EqualTo(1));
        });
    }

    [Test]
    public void IsTransient_InternalWithHttp11RequiredInDebugException_False()
    {
        // Arrange
        var transport = new HttpRequestException(
            "An error occurred while sending the request.",
            new System.Net.Http.HttpProtocolException(0xd, "The HTTP/2 server closed the connection.", null));
        var ex = new RpcException(new Status(StatusCode.Internal, "Error starting gRPC call.", transport));

        // Act
        var transient = Chroma.Transport.TransientFaults.IsTransient(ex);

        // Assert
        Assert.Multiple(() =>
        {
            Assert.That(transient, Is.False);
            Assert.That(Chroma.Transport.TransientFaults.IsTransient(new RpcException(new Status(StatusCode.Internal, "other"))), Is.True);
        });
    }

    [Test]
    public void From_Http11Required_MessageNamesTheEndpointAndTheProtocols()
    {
        // Arrange
        var endpoint = new Uri("http://127.0.0.1:50052/");
        var ex = new RpcException(new Status(StatusCode.Internal, TransportDetail));

        // Act
        var chroma = ChromaException.From(ex, endpoint);

        // Assert
        Assert.That(
            chroma.Message,
            Does.Contain("the endpoint http://127.0.0.1:50052/ answers HTTP/1.1 only; Chroma's gRPC endpoint speaks HTTP/2 (is this Studio's web port?)"));
    }
}
