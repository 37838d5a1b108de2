using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Chroma.Server.Tests.Reliability;

/// <summary>Keeps every log entry of a server (all levels, with exceptions and scopes' absence noted) for tests to search.</summary>
internal sealed class CapturingLoggerProvider : ILoggerProvider
{
    public ConcurrentQueue<CapturedLog> Entries { get; } = new();

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void Dispose()
    {
    }

    /// <summary>Everything written, as one text per entry: category, message and full exception.</summary>
    public IEnumerable<string> AllText() => Entries.Select(e => $"{e.Level} {e.Category} {e.Message} {e.Exception}");

    private sealed class Logger(CapturingLoggerProvider owner, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            owner.Entries.Enqueue(new CapturedLog(logLevel, category, eventId, formatter(state, exception), exception));
    }
}

/// <summary>One captured log entry.</summary>
internal sealed record CapturedLog(LogLevel Level, string Category, EventId Event, string Message, Exception? Exception);
