namespace Chroma.Server.Services.Internal;

/// <summary>
/// How busy the gRPC API is: the unary calls in flight and when one last began or ended. Work that nothing waits
/// for (Studio's map warmer, an index's save after its build and the first check of a loaded graph) waits for a quiet moment with it instead of taking CPU from queries,
/// which matters most just after a start, when the runtime is still compiling the query path. Log streams are not
/// counted (a client may keep one open for hours); ingest is seen from the store's change sequences instead.
/// </summary>
internal sealed class GrpcActivity
{
    /// <summary>How long the API must have had no unary call before work that waits for a quiet moment runs.</summary>
    public static readonly TimeSpan QuietPeriod = TimeSpan.FromSeconds(2);

    /// <summary>How long such work waits for a quiet moment at most: a server that is never quiet still gets it done.</summary>
    public static readonly TimeSpan MaximumDeferral = TimeSpan.FromSeconds(60);

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

    /// <summary>
    /// Whether work that has waited for a quiet moment since <paramref name="waitingSince"/> (a timestamp of this
    /// tracker's <see cref="TimeProvider"/>) may run now: the API has been quiet for <see cref="QuietPeriod"/>, or the
    /// work has waited <see cref="MaximumDeferral"/>.
    /// </summary>
    public bool MayRunDeferred(long waitingSince) =>
        QuietFor(QuietPeriod) || _time.GetElapsedTime(waitingSince) >= MaximumDeferral;
}
