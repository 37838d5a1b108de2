using Chroma.Tests.Support;
using Microsoft.Extensions.Logging;
using NUnit.Framework;

namespace Chroma.Tests.Transport;

/// <summary>An outage is said once at Warning (a user at the default level sees it), its retries at Debug (outside-in probe 6, F9).</summary>
[TestFixture]
public sealed class OutageLoggingTests
{
    [Test, CancelAfter(20_000)]
    public async Task Send_ServerUnavailableForSomeTries_OneWarningNamingTheCauseRetriesAtDebugNothingLost(CancellationToken cancellationToken)
    {
        var sessions = new ScriptedIngestSessions();
        sessions.FailNextSessions(5);
        var logs = new RecordingLoggerProvider();
        await using var client = TestClients.Create(sessions, o => o.LoggerFactory = logs);
        var set = client.Set();

        for (var i = 0; i < 10; i++)
        {
            set.LogTraining([i, 0, 0, 0], "0");
        }

        await client.FlushAsync(cancellationToken);

        var entries = logs.Entries.ToList();
        var warnings = entries.Where(e => e.Level >= LogLevel.Warning).ToList();
        Assert.Multiple(() =>
        {
            Assert.That(warnings, Has.Count.EqualTo(1), string.Join("\n", entries.Select(e => $"{e.Level} {e.Message}")));
            Assert.That(warnings[0].Message, Does.Contain("cannot deliver to the server at http://127.0.0.1:1/").And.Contain("Unavailable").And.Contain("scripted outage"), "names the address it tried (probe G F3)");
            Assert.That(entries.Count(e => e.Level == LogLevel.Debug && e.Message.Contains("retry", StringComparison.Ordinal)), Is.EqualTo(5), "every retry at Debug");
            Assert.That(client.Statistics.Exported, Is.EqualTo(10), "nothing lost");
        });
    }

    [Test, CancelAfter(20_000)]
    public async Task Send_HostUnknown_TheWarningNamesTheTransportsCause(CancellationToken cancellationToken)
    {
        // Probe L, L6: with an unknown host, the warning said only "Unavailable: Error connecting to subchannel."; a query
        // to the same address said "Name or service not known".
        var sessions = new ScriptedIngestSessions
        {
            FailureDetail = "Error connecting to subchannel.",
            FailureCause = new InvalidOperationException("outer", new System.Net.Sockets.SocketException(11001, "Name or service not known")),
        };
        sessions.FailNextSessions(1);
        var logs = new RecordingLoggerProvider();
        await using var client = TestClients.Create(sessions, o => o.LoggerFactory = logs);

        client.Set().LogTraining([1, 0, 0, 0], "0");
        await client.FlushAsync(cancellationToken);

        var warning = logs.Entries.Single(e => e.Level == LogLevel.Warning);
        Assert.That(warning.Message, Does.Contain("Unavailable: Name or service not known; Error connecting to subchannel."));
    }

    [Test, CancelAfter(20_000)]
    public async Task Send_TlsHandshakeFails_TheWarningSaysWhatToCheck(CancellationToken cancellationToken)
    {
        // Probe L, L6: an https:// endpoint on a server without TLS is retried for ever; its warning had only the SSL error.
        var sessions = new ScriptedIngestSessions
        {
            FailureStatus = Grpc.Core.StatusCode.Internal,
            FailureDetail = "Error starting gRPC call. HttpRequestException: The SSL connection could not be established, see inner exception.",
        };
        sessions.FailNextSessions(1);
        var logs = new RecordingLoggerProvider();
        await using var client = TestClients.Create(sessions, o => o.LoggerFactory = logs);

        client.Set().LogTraining([1, 0, 0, 0], "0");
        await client.FlushAsync(cancellationToken);

        var warning = logs.Entries.Single(e => e.Level == LogLevel.Warning);
        Assert.That(warning.Message, Does.Contain("The SSL connection could not be established").And.Contain("a server without one takes http://"));
    }
}
