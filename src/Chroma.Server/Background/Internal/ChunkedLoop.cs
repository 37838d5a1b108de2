using System.Runtime.ExceptionServices;

namespace Chroma.Server.Background.Internal;

/// <summary>
/// One <see cref="BackgroundWorkLimiter.For"/> call: chunks are claimed with an atomic counter by the
/// calling thread and by whichever helpers start while chunks remain. The caller waits only for
/// helpers that claimed a chunk, so a helper still queued behind other work never holds it up.
/// </summary>
internal sealed class ChunkedLoop
{
    private readonly int _from;
    private readonly int _to;
    private readonly int _chunkSize;
    private readonly Action<int, int> _body;
    private readonly CancellationToken _cancellationToken;
    // A plain object: the caller waits on it with Monitor.Wait, which System.Threading.Lock does not offer.
    private readonly object _gate = new();
    private long _nextChunk = -1;
    private int _activeHelpers;
    private ExceptionDispatchInfo? _failure;

    public ChunkedLoop(int from, int to, int chunkSize, Action<int, int> body, CancellationToken cancellationToken)
    {
        _from = from;
        _to = to;
        _chunkSize = chunkSize;
        _body = body;
        _cancellationToken = cancellationToken;
        ChunkCount = (((long)to - from) + chunkSize - 1) / chunkSize;
    }

    public long ChunkCount { get; }

    /// <summary>A helper's share: claims chunks until none remain (a late helper claims none and returns at once).</summary>
    public void Help()
    {
        lock (_gate)
        {
            if (Volatile.Read(ref _nextChunk) + 1 >= ChunkCount)
            {
                return;
            }

            _activeHelpers++;
        }

        try
        {
            RunChunks();
        }
        finally
        {
            lock (_gate)
            {
                _activeHelpers--;
                Monitor.PulseAll(_gate);
            }
        }
    }

    /// <summary>The caller's share, then the wait for helpers still inside a chunk; rethrows the first failure.</summary>
    public void RunOnCallingThread()
    {
        RunChunks();
        lock (_gate)
        {
            // Every chunk is claimed by now; a helper that starts later finds none and does not count.
            while (_activeHelpers > 0)
            {
                Monitor.Wait(_gate);
            }
        }

        _failure?.Throw();
        _cancellationToken.ThrowIfCancellationRequested();
    }

    private void RunChunks()
    {
        while (Volatile.Read(ref _failure) is null && !_cancellationToken.IsCancellationRequested)
        {
            var chunk = Interlocked.Increment(ref _nextChunk);
            if (chunk >= ChunkCount)
            {
                return;
            }

            var start = _from + (int)(chunk * _chunkSize);
            var end = (int)Math.Min(_to, start + (long)_chunkSize);
            try
            {
                _body(start, end);
            }
#pragma warning disable CA1031 // Recorded and rethrown on the calling thread.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                Interlocked.CompareExchange(ref _failure, ExceptionDispatchInfo.Capture(ex), null);
                return;
            }
        }
    }
}
