using Chroma.Server.Storage;
using Chroma.Server.Storage.Internal;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;

namespace Chroma.Server.Tests.Storage;

[TestFixture]
public sealed class StorageOutageLogTests
{
    private static readonly Exception Refused =
        new StoreUnavailableException("The PostgreSQL database could not commit the batch.", new Npgsql.NpgsqlException("Failed to connect to 127.0.0.1:5432", new System.Net.Sockets.SocketException(111)));

    [Test]
    public void TryLog_RepeatedOutageFailures_OneWarningThenOneReminderPerIntervalThenOneRecoveryLine()
    {
        // Arrange
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 12, 5, 12, 0, 0, TimeSpan.Zero));
        var logger = new RecordingLogger();
        var log = new StorageOutageLog(logger, "ingest", time) { ReminderInterval = TimeSpan.FromSeconds(60) };

        // Act: 40 refused batches over 20 s, then 40 s more, then success.
        for (var i = 0; i < 40; i++)
        {
            Assert.That(log.TryLog(Refused), Is.True);
            time.Advance(TimeSpan.FromMilliseconds(500));
        }

        var afterTwentySeconds = logger.Entries.Count;
        time.Advance(TimeSpan.FromSeconds(40));
        log.TryLog(Refused);
        log.Succeeded();
        log.Succeeded();

        // Assert
        Assert.Multiple(() =>
        {
            Assert.That(afterTwentySeconds, Is.EqualTo(1), "one line for the first 20 s of the outage");
            Assert.That(logger.Entries, Has.Count.EqualTo(3));
            Assert.That(logger.Entries[0].Level, Is.EqualTo(LogLevel.Warning));
            Assert.That(logger.Entries[0].Message, Does.Contain("ingest").And.Contain("Failed to connect to 127.0.0.1:5432: Connection refused"));
            Assert.That(logger.Entries.Select(e => e.Exception), Is.All.Null, "no stack trace for a refused connection");
            Assert.That(logger.Entries[1].Message, Does.Contain("still unavailable").And.Contain("since 2026-12-05 12:00:00Z").And.Contain("41 failures"));
            Assert.That(logger.Entries[2].Level, Is.EqualTo(LogLevel.Information));
            Assert.That(logger.Entries[2].Message, Does.Contain("back").And.Contain("41 failures"));
        });
    }

    [Test]
    public void TryLog_FailureThatIsNoOutage_NotTakenSoTheCallerLogsIt()
    {
        // Arrange
        var logger = new RecordingLogger();
        var log = new StorageOutageLog(logger, "ingest", new FakeTimeProvider());

        // Act
        var taken = log.TryLog(new StoreUnavailableException("The SQLite database could not commit the batch.", new InvalidOperationException("a bug")));
        log.Succeeded();

        // Assert
        Assert.That(taken, Is.False);
        Assert.That(logger.Entries, Is.Empty);
    }

    [Test]
    public void TryLog_SecondOutageAfterRecovery_LoggedAgain()
    {
        // Arrange
        var logger = new RecordingLogger();
        var log = new StorageOutageLog(logger, "scoring", new FakeTimeProvider());

        // Act
        log.TryLog(Refused);
        log.Succeeded();
        log.TryLog(Refused);

        // Assert
        Assert.That(logger.Entries.Select(e => e.Level), Is.EqualTo(new[] { LogLevel.Warning, LogLevel.Information, LogLevel.Warning }));
    }

    private sealed class RecordingLogger : ILogger
    {
        public List<(LogLevel Level, string Message, Exception? Exception)> Entries { get; } = [];

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            Entries.Add((logLevel, formatter(state, exception), exception));
    }
}
