namespace Chroma.Transport.Internal;

/// <summary>
/// Which of the configured endpoints the client uses now. Starts at the first; a failure reported for the endpoint in
/// use moves every later call to the next one (wrapping around). A failure reported for an endpoint the client already
/// left changes nothing, so concurrent failures of one replica move the client on once, not past a healthy one.
/// </summary>
internal sealed class EndpointRotation
{
    private int _current;

    public EndpointRotation(IReadOnlyList<Uri> endpoints)
    {
        Endpoints = endpoints;
    }

    public IReadOnlyList<Uri> Endpoints { get; }

    /// <summary>The index of the endpoint new calls go to.</summary>
    public int Current => Volatile.Read(ref _current);

    /// <summary>Moves on from <paramref name="failed"/> if it is still the endpoint in use; returns the endpoint now in use.</summary>
    public int MoveOnFrom(int failed)
    {
        var next = (failed + 1) % Endpoints.Count;
        var seen = Interlocked.CompareExchange(ref _current, next, failed);
        return seen == failed ? next : seen;
    }
}
