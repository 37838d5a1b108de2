using System.Text;
using System.Text.Json;

namespace Chroma.Server.Web.Internal;

/// <summary>GET /api/events: server-sent events telling the browser which sets changed.</summary>
internal sealed partial class StudioApi
{
    /// <summary>How often the sets' state is read for the connected browsers (once for all of them; a cheap count per set).</summary>
    public static readonly TimeSpan EventPollInterval = TimeSpan.FromMilliseconds(250);

    private readonly Lock _changeStateGate = new();
    private (long At, Dictionary<string, SetChange> State)? _changeState;

    private static readonly TimeSpan Heartbeat = TimeSpan.FromSeconds(15);

    /// <summary>
    /// Streams a <c>sets</c> event (every set's live count, last update and scores revision) at once, then a
    /// <c>changed</c> event (<c>{"changed": [...], "removed": [...]}</c>: only the sets that changed, came or went)
    /// whenever something changes; the page then fetches only what is new. The state is read once per
    /// <see cref="EventPollInterval"/> for every open page together (probe X, X2: each page read and sent every set's
    /// state, 419 KB at 5,000 sets on any change, and cost a tenth of a core while idle). A comment every 15 s keeps
    /// proxies open.
    /// When the server stops (<paramref name="stopping"/>) the stream ends at once, cleanly, after a <c>stopping</c>
    /// event (the page then stops listening instead of reconnecting at once): an open page neither holds the
    /// shutdown up for its whole timeout nor has its connection reset when that runs out.
    /// </summary>
    public async Task EventsAsync(HttpContext context, CancellationToken stopping, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        context.Response.ContentType = "text/event-stream";
        context.Response.Headers.CacheControl = "no-store";
        context.Response.Headers["X-Accel-Buffering"] = "no";
        await context.Response.Body.FlushAsync(cancellationToken).ConfigureAwait(false);

        Dictionary<string, SetChange>? last = null;
        var quietSince = _time.GetTimestamp();
        using var ended = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, stopping);
        using var timer = new PeriodicTimer(EventPollInterval, _time);
        try
        {
            do
            {
                var state = SharedChangeState();
                if (last is null)
                {
                    last = state;
                    var all = JsonSerializer.Serialize(state.Values, StudioJson.Options);
                    await WriteAsync(context, $"event: sets\ndata: {all}\n\n", ended.Token).ConfigureAwait(false);
                    quietSince = _time.GetTimestamp();
                }
                else if (Difference(last, state) is { } difference)
                {
                    last = state;
                    var text = JsonSerializer.Serialize(difference, StudioJson.Options);
                    await WriteAsync(context, $"event: changed\ndata: {text}\n\n", ended.Token).ConfigureAwait(false);
                    quietSince = _time.GetTimestamp();
                }
                else if (_time.GetElapsedTime(quietSince) >= Heartbeat)
                {
                    await WriteAsync(context, ": still here\n\n", ended.Token).ConfigureAwait(false);
                    quietSince = _time.GetTimestamp();
                }
            }
            while (await timer.WaitForNextTickAsync(ended.Token).ConfigureAwait(false));
        }
        catch (OperationCanceledException) when (ended.IsCancellationRequested)
        {
            // The browser went away, or the server is stopping: told below.
        }

        if (stopping.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            try
            {
                await WriteAsync(context, "event: stopping\ndata: {}\n\n", cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is IOException or OperationCanceledException)
            {
                // The browser went away meanwhile: nobody to tell.
            }
        }
    }

    // The sets' state, read at most once per poll interval whoever asks (every open page's stream). A new reading
    // projects the new records of the sets that changed before any page hears of them, so a page's request for the new
    // points finds them ready.
    private Dictionary<string, SetChange> SharedChangeState()
    {
        lock (_changeStateGate)
        {
            var now = _time.GetTimestamp();
            if (_changeState is { } cached && _time.GetElapsedTime(cached.At, now) < EventPollInterval * 0.8)
            {
                return cached.State;
            }

            var state = new Dictionary<string, SetChange>(StringComparer.Ordinal);
            foreach (var summary in _store.ListSets())
            {
                var change = new SetChange(summary.Set.SetId, summary.TotalRecords, summary.UpdatedUnixMs, _scoring.Scores(summary.Set).Revision);
                state[change.SetId] = change;
                if (_changeState is { } previous && previous.State.TryGetValue(change.SetId, out var before) && before != change)
                {
                    _maps.RefreshIfTracked(summary.Set);
                }
            }

            _changeState = (now, state);
            return state;
        }
    }

    // What a page that knows `before` must hear to know `after`; null when nothing changed.
    private static SetChanges? Difference(Dictionary<string, SetChange> before, Dictionary<string, SetChange> after)
    {
        if (ReferenceEquals(before, after))
        {
            return null;
        }

        var changed = after.Values.Where(c => !before.TryGetValue(c.SetId, out var was) || was != c).ToList();
        var removed = before.Keys.Where(id => !after.ContainsKey(id)).ToList();
        return changed.Count == 0 && removed.Count == 0 ? null : new SetChanges(changed, removed);
    }

    private static async Task WriteAsync(HttpContext context, string text, CancellationToken cancellationToken)
    {
        await context.Response.Body.WriteAsync(Encoding.UTF8.GetBytes(text), cancellationToken).ConfigureAwait(false);
        await context.Response.Body.FlushAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>What the page compares to know a set changed.</summary>
    private sealed record SetChange(string SetId, long Total, long UpdatedUnixMs, long ScoresRevision);

    /// <summary>A <c>changed</c> event: the sets whose state changed or that came, and the ids of those that went.</summary>
    private sealed record SetChanges(IReadOnlyList<SetChange> Changed, IReadOnlyList<string> Removed);
}
