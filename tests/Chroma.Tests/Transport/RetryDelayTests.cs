using System.Globalization;
using System.Text.RegularExpressions;
using Chroma.Tests.Support;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;

namespace Chroma.Tests.Transport;

/// <summary>
/// With the default retry options, a long outage is tried at least every 5 s, so a server back from a short restart is
/// reached before the queue fills (probe L, L2: with 30 s between attempts, a 6 s restart cost 7,329 records at
/// 1,000 a second that the default queue would have held). The clock is a fake one, advanced past each delay.
/// </summary>
[TestFixture]
public sealed partial class RetryDelayTests
{
    private static readonly TimeSpan DefaultMaxDelay = TimeSpan.FromSeconds(5);

    [Test, CancelAfter(60_000)]
    public async Task Send_LongOutageWithTheDefaultRetryOptions_NoDelayLongerThan5Seconds(CancellationToken cancellationToken)
    {
        // Arrange: a server that refuses every stream until it is back.
        var time = new FakeTimeProvider(DateTimeOffset.UnixEpoch);
        var sessions = new ScriptedIngestSessions();
        sessions.FailNextSessions(int.MaxValue);
        var logs = new RecordingLoggerProvider();
        await using var client = TestClients.Create(sessions, o =>
        {
            o.TimeProvider = time;
            o.Retry = new ChromaRetryOptions();
            o.LoggerFactory = logs;
            o.DrainTimeout = TimeSpan.FromMilliseconds(100);
        });
        client.Set().LogTraining([1, 0, 0, 0], "0");

        // Act: the flush, then twelve failed attempts, each delay passed on the fake clock (no delay may exceed 30 s).
        while (Delays(logs).Count < 12)
        {
            time.Advance(TimeSpan.FromSeconds(31));
            await Task.Delay(1, cancellationToken);
        }

        var delays = Delays(logs);

        // The server is back: the next attempt delivers.
        sessions.FailNextSessions(0);
        time.Advance(TimeSpan.FromSeconds(31));
        await client.FlushAsync(cancellationToken);

        // Assert
        Assert.Multiple(() =>
        {
            Assert.That(delays.Max(), Is.LessThanOrEqualTo(DefaultMaxDelay.TotalMilliseconds), string.Join(", ", delays));
            // With jitter a delay may fall below the cap again after reaching it (seen: 5,000 then 427 ms); most reach it.
            Assert.That(delays.Count(d => d >= 0.9 * DefaultMaxDelay.TotalMilliseconds), Is.GreaterThanOrEqualTo(3), "the delays grew to the cap");
            Assert.That(client.Statistics.Exported, Is.EqualTo(1), "delivered once the server was back");
        });
    }

    private static List<double> Delays(RecordingLoggerProvider logs) =>
        [.. logs.Entries
            .Where(e => e.Level == LogLevel.Debug)
            .Select(e => RetryLine().Match(e.Message))
            .Where(m => m.Success)
            .Select(m => double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture))];

    [GeneratedRegex(@"retry \d+ in (\d+) ms")]
    private static partial Regex RetryLine();
}
