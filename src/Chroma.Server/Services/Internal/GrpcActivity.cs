namespace Chroma.Server.Services.Internal;

/// <summary>
/// How busy the gRPC API is: the unary calls in flight and when one last began or ended. Work that only makes the
/// server more convenient (Studio's map warmer) waits for a quiet moment with it instead of taking CPU from queries,
/// which matters most just after a start, when the runtime is still compiling the query path. Log streams are not
/// counted (a client may keep one open for hours); ingest is seen from the store's change sequences instead.
/// </summary>
internal sealed class GrpcActivity
{
    private readonly TimeProvider _time;
    private int _inFlight;
    private long _lastTimestamp;

    /// <summary>Creates the tracker; the server counts as busy from its start until it has been quiet.</summary>
    public GrpcActivity(TimeProvider time)
    {
        _time = time;
        _lastTimestamp = time.GetTimestamp();
    }

    /// <summary>Gets the unary calls in flight now.</summary>
    public int InFlight => Volatile.Read(ref _inFlight);

    /// <summary>Marks a call begun.</summary>
    public void Begin()
    {
        Interlocked.Increment(ref _inFlight);
        Volatile.Write(ref _lastTimestamp, _time.GetTimestamp());
    }

    /// <summary>Marks a call ended (answered, failed or cancelled).</summary>
    public void End()
    {
        Volatile.Write(ref _lastTimestamp, _time.GetTimestamp());
        Interlocked.Decrement(ref _inFlight);
    }

    /// <summary>Whether no call is in flight and none has begun or ended for <paramref name="period"/>.</summary>
    public bool QuietFor(TimeSpan period) =>
        InFlight == 0 && _time.GetElapsedTime(Volatile.Read(ref _lastTimestamp)) >= period;
}
