using Microsoft.Extensions.Logging;

namespace Chroma.Diagnostics;

/// <summary>
/// The client's loggers never throw. A logging provider that fails (a full disk, a faulty sink; Microsoft.Extensions.Logging
/// rethrows its exceptions as an <see cref="AggregateException"/>) would otherwise throw on the drop reporter's timer and
/// abort the process, stop the sender so that records were neither delivered nor counted, or make
/// <c>DisposeAsync</c> throw. Here such a message is lost instead, and counted (<see cref="Lost"/>): logs are not the
/// user's data. Entries below <c>minimum</c> are not passed on (the gRPC channel's loggers start at Warning).
/// </summary>
internal sealed class NonThrowingLogger(ILogger inner, LogLevel minimum = LogLevel.Trace) : ILogger
{
    private static long _lost;

    /// <summary>Gets how many log messages, in this process, failed in a provider and were lost.</summary>
    public static long Lost => Interlocked.Read(ref _lost);

    /// <inheritdoc />
    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull
    {
        try
        {
            return inner.BeginScope(state);
        }
#pragma warning disable CA1031 // A failing provider loses its scope, never the caller's work.
        catch (Exception)
#pragma warning restore CA1031
        {
            Interlocked.Increment(ref _lost);
            return null;
        }
    }

    /// <inheritdoc />
    public bool IsEnabled(LogLevel logLevel)
    {
        if (logLevel < minimum)
        {
            return false;
        }

        try
        {
            return inner.IsEnabled(logLevel);
        }
#pragma warning disable CA1031 // A provider that cannot say is treated as off.
        catch (Exception)
#pragma warning restore CA1031
        {
            return false;
        }
    }

    /// <inheritdoc />
    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        if (logLevel < minimum)
        {
            return;
        }

        try
        {
            inner.Log(logLevel, eventId, state, exception, formatter);
        }
#pragma warning disable CA1031 // The message is lost and counted; the client's thread goes on.
        catch (Exception)
#pragma warning restore CA1031
        {
            Interlocked.Increment(ref _lost);
        }
    }
}
