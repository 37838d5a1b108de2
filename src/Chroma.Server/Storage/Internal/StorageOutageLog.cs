namespace Chroma.Server.Storage.Internal;

/// <summary>
/// One background component's log of a database outage (PostgreSQL stopped or restarting, see <see cref="StorageOutage"/>):
/// one warning without a stack trace when it begins, a reminder at most every <see cref="ReminderInterval"/> with the
/// number of failures since, and one line when the component succeeds again. Any other failure is not taken: the caller
/// logs it as before, so a novel error is never hidden behind an outage.
/// </summary>
internal sealed partial class StorageOutageLog
{
    /// <summary>The default time between two "still unavailable" reminders: one minute.</summary>
    public static readonly TimeSpan DefaultReminderInterval = TimeSpan.FromMinutes(1);

    private readonly ILogger _logger;
    private readonly string _component;
    private readonly TimeProvider _time;
    private readonly Lock _gate = new();
    private volatile bool _down;
    private DateTimeOffset _since;
    private DateTimeOffset _lastLogged;
    private int _failures;

    /// <summary>Creates the log of <paramref name="component"/> (a few words: "ingest", "the index poll").</summary>
    public StorageOutageLog(ILogger logger, string component, TimeProvider? timeProvider = null)
    {
        _logger = logger;
        _component = component;
        _time = timeProvider ?? TimeProvider.System;
    }

    /// <summary>Gets or sets the time between two reminders. The default value is one minute.</summary>
    public TimeSpan ReminderInterval { get; init; } = DefaultReminderInterval;

    /// <summary>
    /// Logs or counts <paramref name="exception"/> when it says the database cannot be reached, and returns
    /// <see langword="true"/>; returns <see langword="false"/> for any other failure, which the caller logs itself.
    /// </summary>
    public bool TryLog(Exception exception)
    {
        // A store's StoreUnavailableException wraps any failed commit: only its cause tells an outage from a fault.
        if (!StorageOutage.Is(Unwrap(exception)))
        {
            return false;
        }

        lock (_gate)
        {
            var now = _time.GetUtcNow();
            if (!_down)
            {
                (_down, _since, _lastLogged, _failures) = (true, now, now, 1);
                Unavailable(_logger, _component, Reason(exception));
                return true;
            }

            _failures++;
            if (now - _lastLogged >= ReminderInterval)
            {
                _lastLogged = now;
                StillUnavailable(_logger, _component, _since, _failures, Reason(exception));
            }
        }

        return true;
    }

    /// <summary>
    /// Called after each success: logs once that the database is back when an outage was logged, and then returns
    /// <see langword="true"/> (the caller need not say it works again); otherwise returns <see langword="false"/>.
    /// </summary>
    public bool Succeeded()
    {
        if (!_down)
        {
            return false;
        }

        lock (_gate)
        {
            if (!_down)
            {
                return false;
            }

            _down = false;
            var duration = _time.GetUtcNow() - _since;
            Recovered(_logger, _component, duration, _failures);
            return true;
        }
    }

    // The failure's own words (the store's wrapper says only "could not commit"), then its root cause when that adds any:
    // "Failed to connect to 127.0.0.1:5432: Connection refused".
    private static string Reason(Exception exception)
    {
        var failure = Unwrap(exception);
        var innermost = failure;
        while (innermost.InnerException is not null)
        {
            innermost = innermost.InnerException;
        }

        var reason = ReferenceEquals(innermost, failure) || failure.Message.Contains(innermost.Message, StringComparison.Ordinal)
            ? failure.Message
            : $"{failure.Message}: {innermost.Message}";
        return reason.ReplaceLineEndings(" ");
    }

    private static Exception Unwrap(Exception exception) =>
        exception is StoreUnavailableException { InnerException: { } cause } ? cause : exception;

    [LoggerMessage(EventId = 20, Level = LogLevel.Warning,
        Message = "The database is unavailable to {Component} ({Reason}); it retries, and further failures of this outage are counted, not logged")]
    private static partial void Unavailable(ILogger logger, string component, string reason);

    [LoggerMessage(EventId = 21, Level = LogLevel.Warning,
        Message = "The database is still unavailable to {Component}, since {Since:u}: {Failures} failures ({Reason})")]
    private static partial void StillUnavailable(ILogger logger, string component, DateTimeOffset since, int failures, string reason);

    [LoggerMessage(EventId = 22, Level = LogLevel.Information,
        Message = "The database is back for {Component} after {Duration} ({Failures} failures while it was unavailable)")]
    private static partial void Recovered(ILogger logger, string component, TimeSpan duration, int failures);
}
