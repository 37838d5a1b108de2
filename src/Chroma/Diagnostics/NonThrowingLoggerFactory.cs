using Microsoft.Extensions.Logging;

namespace Chroma.Diagnostics;

/// <summary>
/// Hands out <see cref="NonThrowingLogger"/>s over the user's factory (the client's own and the gRPC channel's), passing
/// on entries from <c>minimum</c> up. Does not own the factory: disposing this leaves it alone.
/// </summary>
internal sealed class NonThrowingLoggerFactory(ILoggerFactory inner, LogLevel minimum = LogLevel.Trace) : ILoggerFactory
{
    /// <inheritdoc />
    public ILogger CreateLogger(string categoryName)
    {
        try
        {
            return new NonThrowingLogger(inner.CreateLogger(categoryName), minimum);
        }
#pragma warning disable CA1031 // A factory that cannot make a logger leaves the client without logs, not without work.
        catch (Exception)
#pragma warning restore CA1031
        {
            return Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance;
        }
    }

    /// <inheritdoc />
    public void AddProvider(ILoggerProvider provider) => inner.AddProvider(provider);

    /// <inheritdoc />
    public void Dispose()
    {
        // The user's factory is theirs to dispose.
    }
}
