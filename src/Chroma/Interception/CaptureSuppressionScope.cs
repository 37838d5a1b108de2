namespace Chroma;

/// <summary>A scope opened by <see cref="CaptureSuppression.Begin"/>; disposing it restores the previous state.</summary>
public sealed class CaptureSuppressionScope : IDisposable
{
    private readonly bool _previous;
    private int _disposed;

    internal CaptureSuppressionScope(bool previous)
    {
        _previous = previous;
    }

    /// <summary>Ends the scope. A second call does nothing.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            CaptureSuppression.Restore(_previous);
        }
    }
}
