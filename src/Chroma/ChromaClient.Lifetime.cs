using Chroma.Diagnostics;

namespace Chroma;

public sealed partial class ChromaClient
{
    /// <summary>
    /// Stops accepting records, delivers what is queued for at most <see cref="ChromaClientOptions.DrainTimeout"/>, then
    /// counts whatever is left as failed and closes the connection. Safe to call more than once, and at once from several
    /// threads: a later call returns when the first one's drain has ended. The <c>Chroma</c> meter's
    /// instruments complete here, before a metrics reader's next collection: read the final counts (those failed by the
    /// drain included) from <see cref="Statistics"/> afterwards.
    /// </summary>
    public ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposeStarted, 1) == 1)
        {
            // A later call returns when the first one's drain ends, not while records are still being delivered.
            return new ValueTask(_disposal.Task);
        }

        return new ValueTask(DisposeOnceAsync());
    }

    private async Task DisposeOnceAsync()
    {
        try
        {
            await DrainAndCloseAsync().ConfigureAwait(false);
        }
        finally
        {
            _disposal.TrySetResult();
        }
    }

    private async Task DrainAndCloseAsync()
    {
        AppDomain.CurrentDomain.ProcessExit -= _drainAtProcessExit;
        _disposed = true;
        _records.Writer.TryComplete();
        _assembler.RequestFlush(); // Wake the loop: an open batch must not wait for its deadline.
        var loops = Task.WhenAll(_assemblerTask, _senderTask);

        // What a timed-out drain leaves undelivered: every record counted failed from the moment it gives up, those in
        // flight (failed by the sender as it stops) as well as those still queued (failed below).
        long? failedAtTimeout = null;
        try
        {
            await loops.WaitAsync(_options.DrainTimeout, _time).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            failedAtTimeout = _counters.Failed;
            await _stopping.CancelAsync().ConfigureAwait(false);
            await loops.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
        catch (Exception ex) when (loops.IsFaulted)
        {
            // A loop that died of an unexpected error (a broken transport, a bug) must not make disposal throw into the
            // caller; what it left is counted below.
            ChromaClientLog.DeliveryLoopFailed(_logger, ex);
        }

        var remaining = _sender.FailRemaining() + _assembler.FailQueuedRecords();
        var failed = failedAtTimeout is { } before ? Math.Max(remaining, _counters.Failed - before) : remaining;
        if (failed > 0)
        {
            ChromaClientLog.DrainTimedOut(_logger, failed, _options.DrainTimeout.TotalSeconds);
        }

        _dropReporter.Report();
        _dropReporter.Dispose();
        _meter.Dispose();
        _assembler.Dispose();
        foreach (var channel in _ownedChannels ?? [])
        {
            channel.Dispose();
        }

        _stopping.Dispose();
    }

    /// <summary>
    /// Disposes the client as <see cref="DisposeAsync"/> does, blocking the caller while queued records are delivered
    /// (at most <see cref="ChromaClientOptions.DrainTimeout"/>), for callers that cannot await: a synchronous
    /// <c>ServiceProvider.Dispose()</c> (a <c>using</c> block around <c>BuildServiceProvider()</c>) refused a client that
    /// was only <see cref="IAsyncDisposable"/>, with an exception, and left its records undelivered. Prefer
    /// <c>await using</c>. Never throws.
    /// </summary>
    public void Dispose()
    {
        try
        {
            DisposeAsync().AsTask().GetAwaiter().GetResult();
        }
#pragma warning disable CA1031 // Disposal never throws into the caller; what was left is counted as failed.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            ChromaClientLog.DeliveryLoopFailed(_logger, ex);
        }
    }

    /// <summary>
    /// A client nobody disposed when the process exits: what it still holds is delivered (for up to
    /// <see cref="ChromaClientOptions.DrainTimeout"/>, as <see cref="DisposeAsync"/> does) rather than lost at exit
    /// uncounted; what could not be is counted as failed and logged. Never throws.
    /// </summary>
    internal void DrainAtProcessExit()
    {
        if (Volatile.Read(ref _disposeStarted) == 1)
        {
            return;
        }

        try
        {
            if (_counters.Outstanding is var outstanding and > 0)
            {
                ChromaClientLog.DrainingAtExit(_logger, outstanding, _options.DrainTimeout.TotalSeconds);
            }

            DisposeAsync().AsTask().GetAwaiter().GetResult();
        }
#pragma warning disable CA1031 // Nothing may escape into the runtime's exit.
        catch (Exception)
#pragma warning restore CA1031
        {
        }
    }
}
