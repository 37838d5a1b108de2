using Chroma.Batching;
using Microsoft.Extensions.Logging;

namespace Chroma.Diagnostics;

/// <summary>Logs drops at most once per interval, with the count since the last warning, from a timer (never the caller's thread).</summary>
internal sealed class DropReporter : IDisposable
{
    private readonly ClientCounters _counters;
    private readonly ILogger _logger;
    private readonly TimeSpan _interval;
    private readonly ITimer _timer;
    private long _reported;
    private long _reportedInvalid;

    public DropReporter(ClientCounters counters, ILogger logger, TimeSpan interval, TimeProvider time)
    {
        _counters = counters;
        _logger = logger;
        _interval = interval;
        _timer = time.CreateTimer(static state => ((DropReporter)state!).Report(), this, interval, interval);
    }

    public void Report()
    {
        // Invalid first: a record counted invalid is counted dropped too, so the split never exceeds the total.
        var invalid = _counters.DroppedInvalid;
        var dropped = _counters.Dropped;
        var previous = Interlocked.Exchange(ref _reported, dropped);
        var previousInvalid = Interlocked.Exchange(ref _reportedInvalid, invalid);
        if (dropped > previous)
        {
            var count = dropped - previous;
            var newlyInvalid = Math.Min(count, invalid - previousInvalid);
            ChromaClientLog.RecordsDropped(_logger, count, _interval.TotalSeconds, dropped, count - newlyInvalid, newlyInvalid);
        }
    }

    public void Dispose() => _timer.Dispose();
}
