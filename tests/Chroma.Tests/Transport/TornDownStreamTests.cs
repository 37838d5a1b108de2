using Chroma.Protocol.V1;
using Chroma.Tests.Support;
using Chroma.Transport;
using Grpc.Core;
using Microsoft.Extensions.Logging;
using Moq;

namespace Chroma.Tests.Transport;

/// <summary>
/// A stream torn down under a write or read surfaces as a bare Cancelled; the warning must carry the server's status or
/// say what happened (outside-in probe b, 10: "cannot deliver to the server (Cancelled: )").
/// </summary>
[TestFixture]
public sealed class TornDownStreamTests
{
    private const string ShuttingDown = "the server is shutting down; re-send unacknowledged batches";

    [Test, CancelAfter(10_000)]
    public void WriteAsync_BareCancelledAfterServerSentUnavailable_ThrowsTheServersStatus(CancellationToken cancellationToken)
    {
        // Arrange
        var session = new GrpcIngestSession(Call(() => new Status(StatusCode.Unavailable, ShuttingDown)));

        // Act
        var ex = Assert.ThrowsAsync<RpcException>(() => session.WriteAsync(new LogBatch(), cancellationToken));

        // Assert
        Assert.Multiple(() =>
        {
            Assert.That(ex!.StatusCode, Is.EqualTo(StatusCode.Unavailable));
            Assert.That(ex.Status.Detail, Is.EqualTo(ShuttingDown));
        });
    }

    [Test, CancelAfter(10_000)]
    public void WriteAsync_BareCancelledBeforeAnyStatus_SaysTheStreamWasTornDown(CancellationToken cancellationToken)
    {
        // Arrange
        var session = new GrpcIngestSession(Call(() => throw new InvalidOperationException("Unable to get the status because the call is not complete.")));

        // Act
        var ex = Assert.ThrowsAsync<RpcException>(() => session.WriteAsync(new LogBatch(), cancellationToken));

        // Assert
        Assert.Multiple(() =>
        {
            Assert.That(ex!.StatusCode, Is.EqualTo(StatusCode.Cancelled));
            Assert.That(ex.Status.Detail, Does.Contain("torn down"));
        });
    }

    [Test, CancelAfter(20_000)]
    public async Task Send_StreamFailsWithBareCancelled_WarningSaysInWords(CancellationToken cancellationToken)
    {
        // Arrange
        var sessions = new ScriptedIngestSessions { FailureStatus = StatusCode.Cancelled, FailureDetail = string.Empty };
        sessions.FailNextSessions(2);
        var logs = new RecordingLoggerProvider();
        await using var client = TestClients.Create(sessions, o => o.LoggerFactory = logs);
        var set = client.Set();

        // Act
        set.LogTraining([1, 0, 0, 0], "0");
        await client.FlushAsync(cancellationToken);

        // Assert
        var warning = logs.Entries.Single(e => e.Level == LogLevel.Warning).Message;
        Assert.Multiple(() =>
        {
            Assert.That(warning, Does.Contain("(Cancelled: the stream was torn down before the server sent a status)"));
            Assert.That(client.Statistics.Exported, Is.EqualTo(1));
        });
    }

    private static AsyncDuplexStreamingCall<LogBatch, LogAck> Call(Func<Status> status)
    {
        var writer = new Mock<IClientStreamWriter<LogBatch>>();
        writer.Setup(w => w.WriteAsync(It.IsAny<LogBatch>(), It.IsAny<CancellationToken>()))
            .ThrowsAsync(new RpcException(new Status(StatusCode.Cancelled, string.Empty)));
        writer.Setup(w => w.WriteAsync(It.IsAny<LogBatch>()))
            .ThrowsAsync(new RpcException(new Status(StatusCode.Cancelled, string.Empty)));
        var reader = new Mock<IAsyncStreamReader<LogAck>>();
        return new AsyncDuplexStreamingCall<LogBatch, LogAck>(
            writer.Object, reader.Object, Task.FromResult(new Metadata()), status, () => new Metadata(), () => { });
    }
}
