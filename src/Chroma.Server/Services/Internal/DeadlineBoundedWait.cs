namespace Chroma.Server.Services.Internal;

/// <summary>
/// How long a request may wait server-side (for a fresh ranking) and still answer before its gRPC deadline: a wait
/// that ran into the deadline would reach the client as DeadlineExceeded instead of the response the protocol
/// promises (covers_request = false), so the wait ends a margin before it, leaving time to build and send the page.
/// </summary>
internal static class DeadlineBoundedWait
{
    /// <summary>
    /// The least time kept back for the response (also when the deadline is far). 200 ms was too little on a busy
    /// server: calls with 0.25-0.3 s deadlines right after a large ingest got DeadlineExceeded (an outside probe).
    /// </summary>
    public static readonly TimeSpan MinimumReserve = TimeSpan.FromMilliseconds(500);

    /// <summary>The most time kept back for the response.</summary>
    public static readonly TimeSpan MaximumReserve = TimeSpan.FromSeconds(2);

    /// <summary>
    /// The wait to use: <paramref name="requested"/>, shortened so it ends a fifth of the time left (500 ms to 2 s)
    /// before <paramref name="deadline"/>, at least 500 ms; zero when that leaves nothing (no wait: the current ranking at once). <see cref="DateTime.MaxValue"/> means no deadline.
    /// </summary>
    /// <param name="requested">The wait the request asked for.</param>
    /// <param name="deadline">The call's deadline (UTC), as <c>ServerCallContext.Deadline</c> reports it.</param>
    /// <param name="utcNow">The current time (UTC).</param>
    public static TimeSpan Limit(TimeSpan requested, DateTime deadline, DateTime utcNow)
    {
        if (deadline == DateTime.MaxValue)
        {
            return requested;
        }

        var left = deadline - utcNow;
        var reserve = TimeSpan.FromTicks(Math.Clamp(left.Ticks / 5, MinimumReserve.Ticks, MaximumReserve.Ticks));
        var allowed = left - reserve;
        if (allowed <= TimeSpan.Zero)
        {
            return TimeSpan.Zero;
        }

        return allowed < requested ? allowed : requested;
    }
}
