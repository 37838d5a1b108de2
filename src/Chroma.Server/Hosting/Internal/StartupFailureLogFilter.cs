namespace Chroma.Server.Hosting.Internal;

/// <summary>
/// Keeps the generic host from logging a failed start ("Hosting failed to start" with the whole stack trace): the
/// failure is reported once, as one line (<see cref="ChromaServerStartException"/>). Once the server has started, the
/// host's errors (a faulted background service, a failed stop) are logged as usual.
/// </summary>
internal sealed class StartupFailureLogFilter
{
    private const string HostCategory = "Microsoft.Extensions.Hosting.Internal.Host";
    private volatile bool _started;

    /// <summary>Adds the filter to <paramref name="logging"/>; it stays closed to host errors until <see cref="OpenWhenStarted"/> sees the start.</summary>
    public static StartupFailureLogFilter AddTo(ILoggingBuilder logging)
    {
        ArgumentNullException.ThrowIfNull(logging);
        var filter = new StartupFailureLogFilter();
        // The host's own messages below Warning are its start/stop steps (Debug): never of interest here.
        logging.AddFilter(HostCategory, level => level >= LogLevel.Warning && (filter._started || level < LogLevel.Error));
        return filter;
    }

    /// <summary>Lets the host's errors through from the moment the application has started.</summary>
    public void OpenWhenStarted(IHostApplicationLifetime lifetime)
    {
        ArgumentNullException.ThrowIfNull(lifetime);
        lifetime.ApplicationStarted.Register(() => _started = true);
    }
}
