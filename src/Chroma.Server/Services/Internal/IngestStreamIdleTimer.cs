namespace Chroma.Server.Services.Internal;

/// <summary>
/// Ends an ingest stream that has been idle for <see cref="IngestOptions.StreamIdleTimeout"/>: no
/// batch arriving and none waiting for its ack. The clock runs only while nothing is in flight, so a slow commit never
/// closes a busy stream. <see cref="Token"/> is cancelled when the time is up.
/// </summary>
internal sealed class IngestStreamIdleTimer : IDisposable
{
    private readonly CancellationTokenSource _idle = new();
    private readonly TimeSpan _timeout;
    private readonly ITimer? _timer;
    private int _inFlight;

    /// <summary>Creates the timer and starts the clock; <paramref name="timeout"/> of zero never fires.</summary>
    public IngestStreamIdleTimer(TimeSpan timeout, TimeProvider timeProvider)
    {
        ArgumentNullException.ThrowIfNull(timeProvider);
        _timeout = timeout;
        if (timeout > TimeSpan.Zero)
        {
            _timer = timeProvider.CreateTimer(static state => ((IngestStreamIdleTimer)state!).Fire(), this, timeout, System.Threading.Timeout.InfiniteTimeSpan);
        }
    }

    /// <summary>Gets the token cancelled when the stream has been idle for the timeout.</summary>
    public CancellationToken Token => _idle.Token;

    /// <summary>Gets a value indicating whether the stream was closed for idleness.</summary>
    public bool Fired => _idle.IsCancellationRequested;

    /// <summary>Gets the idle time after which the stream closes.</summary>
    public TimeSpan Timeout => _timeout;

    /// <summary>A batch arrived: stop the clock until its ack (and every other in flight) is written.</summary>
    public void BatchReceived()
    {
        Interlocked.Increment(ref _inFlight);
        _timer?.Change(System.Threading.Timeout.InfiniteTimeSpan, System.Threading.Timeout.InfiniteTimeSpan);
    }

    /// <summary>An ack was written: when none is left in flight, start the clock again.</summary>
    public void AckWritten()
    {
        if (Interlocked.Decrement(ref _inFlight) == 0)
        {
            _timer?.Change(_timeout, System.Threading.Timeout.InfiniteTimeSpan);
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _timer?.Dispose();
        _idle.Dispose();
    }

    private void Fire()
    {
        // A batch that arrived as the timer fired keeps the stream open; its ack restarts the clock.
        if (Volatile.Read(ref _inFlight) == 0)
        {
            try
            {
                _idle.Cancel();
            }
            catch (ObjectDisposedException)
            {
                // The stream ended meanwhile.
            }
        }
    }
}
