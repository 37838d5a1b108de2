using Chroma.Diagnostics;
using Chroma.Tests.Support;
using Microsoft.Extensions.Logging;
using NUnit.Framework;

namespace Chroma.Tests.Diagnostics;

/// <summary>
/// A logging provider that throws (a full disk, a faulty sink) never reaches the client's threads: the drop reporter's
/// timer, the sender and DisposeAsync go on, and the lost messages are counted (outside-in probe G, F12: the timer
/// aborted the process, the sender stopped with records neither delivered nor counted, DisposeAsync threw).
/// </summary>
[TestFixture]
public sealed class ThrowingLoggerTests
{
    [Test, CancelAfter(20_000)]
    public async Task Client_ProviderThrowsOnEveryMessage_DeliversCountsAndDisposesWithoutThrowing(CancellationToken cancellationToken)
    {
        // Arrange: the first sessions fail (the sender warns), a NaN record is dropped (the drop reporter warns every 20 ms).
        var sessions = new ScriptedIngestSessions();
        sessions.FailNextSessions(3);
        var lostBefore = NonThrowingLogger.Lost;
        var client = TestClients.Create(sessions, o =>
        {
            o.LoggerFactory = new ThrowingLoggerFactory();
            o.DropLogInterval = TimeSpan.FromMilliseconds(20);
        });
        var set = client.Set();

        // Act
        var nanAccepted = set.LogTraining([float.NaN, 0, 0, 0], "0");
        for (var i = 0; i < 10; i++)
        {
            set.LogTraining([i, 0, 0, 0], "0");
        }

        await client.FlushAsync(cancellationToken);
        await Task.Delay(TimeSpan.FromMilliseconds(200), cancellationToken); // ten drop-reporter ticks
        var statistics = client.Statistics;

        // Assert
        Assert.Multiple(() =>
        {
            Assert.That(nanAccepted, Is.False);
            Assert.That(statistics.Exported, Is.EqualTo(10), "the sender went on after its warnings threw");
            Assert.That(statistics.DroppedInvalid, Is.EqualTo(1));
            Assert.That(NonThrowingLogger.Lost, Is.GreaterThan(lostBefore), "the messages the provider refused are counted");
        });
        Assert.That(async () => await client.DisposeAsync(), Throws.Nothing);
    }

    [Test]
    public void Logger_InnerThrowsEverywhere_NeverThrowsAndSaysDisabled()
    {
        var logger = new NonThrowingLoggerFactory(new ThrowingLoggerFactory()).CreateLogger("Chroma.Test");

        Assert.Multiple(() =>
        {
            Assert.That(() => logger.Log(LogLevel.Warning, new EventId(1), "lost", null, (s, _) => s), Throws.Nothing);
            Assert.That(() => logger.BeginScope("scope"), Throws.Nothing);
            Assert.That(logger.IsEnabled(LogLevel.Warning), Is.True, "a provider that answers IsEnabled is asked");
        });
    }

    // A factory whose loggers say they are on and then throw, as Microsoft.Extensions.Logging does when a provider fails.
    private sealed class ThrowingLoggerFactory : ILoggerFactory
    {
        public ILogger CreateLogger(string categoryName) => new ThrowingLogger();

        public void AddProvider(ILoggerProvider provider)
        {
        }

        public void Dispose()
        {
        }
    }

    private sealed class ThrowingLogger : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => throw new AggregateException("An error occurred while writing to logger(s).", new IOException("log sink is broken"));

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            throw new AggregateException("An error occurred while writing to logger(s).", new IOException("log sink is broken"));
    }
}
