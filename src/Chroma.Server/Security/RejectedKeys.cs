using System.Net;
using Microsoft.Extensions.Logging;

namespace Chroma.Server.Security;

/// <summary>
/// Says in the log that callers are presenting wrong API keys (gRPC calls and Studio sign-ins): counted, and logged at
/// Warning at most once a minute with how many and the latest caller's address, so a guessing run is visible without
/// one line per attempt. The key presented is never logged.
/// </summary>
internal sealed partial class RejectedKeys
{
    /// <summary>How often at most a warning is written.</summary>
    public static readonly TimeSpan Interval = TimeSpan.FromMinutes(1);

    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly Lock _gate = new();
    private long _total;
    private long _sinceLogged;
    private DateTimeOffset _lastLogged = DateTimeOffset.MinValue;

    /// <summary>Creates the counter.</summary>
    public RejectedKeys(ILogger<RejectedKeys> logger, TimeProvider time)
    {
        _logger = logger;
        _time = time;
    }

    /// <summary>Gets how many requests were refused for their key since the server started.</summary>
    public long Total => Interlocked.Read(ref _total);

    /// <summary>Counts one request refused for its key (<paramref name="what"/>: the call or <c>Studio sign-in</c>).</summary>
    public void Rejected(string what, IPAddress? address)
    {
        Interlocked.Increment(ref _total);
        long count;
        lock (_gate)
        {
            _sinceLogged++;
            var now = _time.GetUtcNow();
            if (now - _lastLogged < Interval)
            {
                return;
            }

            count = _sinceLogged;
            _sinceLogged = 0;
            _lastLogged = now;
        }

        try
        {
            RefusedKeys(_logger, count, what, address?.ToString() ?? "unknown");
        }
#pragma warning disable CA1031 // Logging must never turn a refusal into a server error.
        catch (Exception)
#pragma warning restore CA1031
        {
        }
    }

    [LoggerMessage(EventId = 1700, Level = LogLevel.Warning,
        Message = "Refused {Count} requests with a missing or wrong API key since the last such warning (latest: {What} from {Address}); more are counted and said at most once a minute")]
    private static partial void RefusedKeys(ILogger logger, long count, string what, string address);
}
