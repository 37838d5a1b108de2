using System.Text;
using System.Text.Json;

namespace Chroma.Server.Web.Internal;

/// <summary>GET /api/events: server-sent events telling the browser which sets changed.</summary>
internal sealed partial class StudioApi
{
    /// <summary>How often the store is polled for changes per connected browser (a cheap count per set).</summary>
    public static readonly TimeSpan EventPollInterval = TimeSpan.FromMilliseconds(250);

    private static readonly TimeSpan Heartbeat = TimeSpan.FromSeconds(15);

    /// <summary>
    /// Streams a <c>sets</c> event (every set's live count, last update and scores revision) at once and
    /// whenever it changes; the page then fetches only what is new. A comment every 15 s keeps proxies open.
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

        string? last = null;
        var quietSince = _time.GetTimestamp();
        using var ended = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, stopping);
        using var timer = new PeriodicTimer(EventPollInterval, _time);
        try
        {
            do
            {
                var changes = ChangeState();
                var state = JsonSerializer.Serialize(changes, StudioJson.Options);
                if (state != last)
                {
                    WarmMaps(changes, last);
                    last = state;
                    await WriteAsync(context, $"event: sets\ndata: {state}\n\n", ended.Token).ConfigureAwait(false);
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

    private List<SetChange> ChangeState() =>
        [.. _store.ListSets().Select(s => new SetChange(s.Set.SetId, s.TotalRecords, s.UpdatedUnixMs, _scoring.Scores(s.Set).Revision))];

    // Projects new records before the page hears of them, so its request for the new points finds them ready.
    private void WarmMaps(List<SetChange> changes, string? previous)
    {
        if (previous is null)
        {
            return;
        }

        foreach (var change in changes)
        {
            if (_store.FindSet(change.SetId) is { } set)
            {
                _maps.RefreshIfTracked(set);
            }
        }
    }

    private static async Task WriteAsync(HttpContext context, string text, CancellationToken cancellationToken)
    {
        await context.Response.Body.WriteAsync(Encoding.UTF8.GetBytes(text), cancellationToken).ConfigureAwait(false);
        await context.Response.Body.FlushAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>What the page compares to know a set changed.</summary>
    private sealed record SetChange(string SetId, long Total, long UpdatedUnixMs, long ScoresRevision);
}
