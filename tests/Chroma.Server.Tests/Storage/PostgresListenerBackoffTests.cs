using System.Net;
using System.Net.Sockets;
using System.Threading.Channels;
using Chroma.Server.Storage.Postgres;
using Chroma.Server.Tests.Reliability;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;

namespace Chroma.Server.Tests.Storage;

/// <summary>
/// The listener for other replicas' changes while its database refuses connections: it tries again every 2 s at most
/// (before, 1 s doubling to 30 s, so notices resumed up to 16 s after a 15 s outage ended) and logs the outage once,
/// without a stack trace (before, one warning with an Npgsql stack trace per attempt: probe Q, Q3).
/// </summary>
[TestFixture]
public sealed class PostgresListenerBackoffTests
{
    [Test, CancelAfter(60_000)]
    public async Task Listen_DatabaseRefusesConnections_RetriesWithinTheOutageCapAndLogsOnce(CancellationToken cancellationToken)
    {
        // Arrange: a loopback port nothing listens on; a fake clock that records each wait the listener asks for.
        var time = new DelayRecordingTimeProvider();
        var logs = new CapturingLoggerProvider();
        using var factory = LoggerFactory.Create(b => b.AddProvider(logs).SetMinimumLevel(LogLevel.Trace));
        using var listener = new PostgresChangeListener(
            $"Host=127.0.0.1;Port={ClosedPort()};Username=postgres;Database=postgres;Timeout=5", [], null, time, factory.CreateLogger<PostgresChangeListener>());

        // Act: eight refused attempts; after each, the clock moves on by exactly the wait asked for.
        await listener.StartAsync(cancellationToken);
        var waits = new List<TimeSpan>();
        for (var i = 0; i < 8; i++)
        {
            var wait = await time.NextDelayAsync(cancellationToken);
            waits.Add(wait);
            time.Advance(wait);
        }

        await listener.StopAsync(cancellationToken);

        // Assert
        var entries = logs.Entries.Where(e => e.Level >= LogLevel.Warning).ToArray();
        Assert.Multiple(() =>
        {
            Assert.That(waits, Is.All.LessThanOrEqualTo(PostgresChangeListener.OutageRetryDelay), string.Join(", ", waits));
            Assert.That(PostgresChangeListener.OutageRetryDelay, Is.LessThanOrEqualTo(TimeSpan.FromSeconds(5)));
            Assert.That(entries.Select(e => e.Event.Id), Is.EqualTo(new[] { 20 }), string.Join("\n", logs.AllText()));
            Assert.That(entries.Select(e => e.Exception), Is.All.Null, "no stack trace for a refused connection");
            Assert.That(entries[0].Message, Does.Contain("listener").And.Contain("Failed to connect"));
            Assert.That(listener.Connections, Is.Zero);
        });
    }

    private static int ClosedPort()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        return ((IPEndPoint)probe.LocalEndpoint).Port;
    }

    // A FakeTimeProvider that also hands out the due time of each timer created (Task.Delay creates one per wait).
    private sealed class DelayRecordingTimeProvider : TimeProvider
    {
        private readonly FakeTimeProvider _fake = new(new DateTimeOffset(2026, 12, 7, 10, 38, 0, TimeSpan.Zero));
        private readonly Channel<TimeSpan> _delays = Channel.CreateUnbounded<TimeSpan>();

        public override DateTimeOffset GetUtcNow() => _fake.GetUtcNow();

        public override long GetTimestamp() => _fake.GetTimestamp();

        public override long TimestampFrequency => _fake.TimestampFrequency;

        public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
        {
            var timer = _fake.CreateTimer(callback, state, dueTime, period);
            _delays.Writer.TryWrite(dueTime);
            return timer;
        }

        public void Advance(TimeSpan by) => _fake.Advance(by);

        public Task<TimeSpan> NextDelayAsync(CancellationToken cancellationToken) =>
            _delays.Reader.ReadAsync(cancellationToken).AsTask().WaitAsync(TimeSpan.FromSeconds(20), cancellationToken);
    }
}
