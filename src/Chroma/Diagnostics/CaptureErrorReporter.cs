using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Chroma.Diagnostics;

/// <summary>
/// Where capture problems go: each is counted, and each kind is logged once (with its first exception) so a
/// misbehaving selector cannot flood the host's log. Never throws.
/// </summary>
internal sealed class CaptureErrorReporter
{
    private readonly ConcurrentDictionary<string, byte> _loggedKinds = new(StringComparer.Ordinal);
    private readonly ILogger _logger;
    private long _count;

    public CaptureErrorReporter(ILogger logger)
    {
        _logger = logger;
    }

    /// <summary>Capture problems reported so far.</summary>
    public long Count => Volatile.Read(ref _count);

    public void Report(string kind, Exception? exception) => Report(kind, exception, detail: null);

    /// <summary>
    /// Counts one problem; logs <paramref name="detail"/> (the first record's numbers, where they help) the first time
    /// <paramref name="kind"/> is seen, <paramref name="kind"/> itself when there is no detail.
    /// </summary>
    public void Report(string kind, Exception? exception, string? detail)
    {
        Interlocked.Increment(ref _count);
        try
        {
            if (_loggedKinds.TryAdd(kind, 0))
            {
                ChromaClientLog.CaptureProblem(_logger, detail ?? kind, exception);
            }
        }
#pragma warning disable CA1031 // A logging failure must never reach the caller of a wrapped model.
        catch (Exception)
#pragma warning restore CA1031
        {
        }
    }
}
