using System.Collections.Concurrent;
using System.Security.Cryptography;
using Chroma.Server.Labeling;
using Chroma.Server.Storage;

namespace Chroma.Server.Web.Internal;

/// <summary>
/// Undo for Studio's tag and delete, within <see cref="WebOptions.UndoWindow"/>. A tag remembers each record's
/// previous values of the tagged keys (undo writes them back, or removes a key that was absent). A delete is held
/// back: its records leave the map and the queue at once (<see cref="PendingDeletes"/>), the store deletes them
/// when the window ends (a timer on the injected <see cref="TimeProvider"/>), and undo cancels it; disposing
/// (the server stopping) commits every delete still waiting. Tokens are random and single use.
/// </summary>
internal sealed class StudioUndo : IAsyncDisposable
{
    private readonly IRecordStore _store;
    private readonly TimeProvider _time;
    private readonly ILogger<StudioUndo> _logger;
    private readonly TimeSpan _window;
    private readonly ConcurrentDictionary<string, Entry> _entries = new(StringComparer.Ordinal);
    private readonly LabelingService? _labeling;

    /// <summary>Creates the undo log.</summary>
    /// <param name="store">Where tags and deletes are written.</param>
    /// <param name="options">Studio's options (the undo window).</param>
    /// <param name="time">The clock.</param>
    /// <param name="logger">Where deferred deletes are logged.</param>
    /// <param name="labeling">Where reviews are put back; null where only tags and deletes are undone.</param>
    public StudioUndo(IRecordStore store, WebOptions options, TimeProvider time, ILogger<StudioUndo> logger, LabelingService? labeling = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        _store = store;
        _labeling = labeling;
        _time = time;
        _logger = logger;
        _window = options.UndoWindow;
    }

    /// <summary>Gets how long an action can be undone.</summary>
    public TimeSpan Window => _window;

    /// <summary>Tags <paramref name="ids"/> and remembers what the tagged keys held before; returns the count and the undo token.</summary>
    public async Task<(long Tagged, string Token)> TagAsync(
        StoredEmbeddingSet set, IReadOnlyList<string> ids, IReadOnlyDictionary<string, string> tags, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(tags);
        var before = _store.GetRecordsByIds(set, [.. ids.Distinct(StringComparer.Ordinal)], includeEmbeddings: false)
            .Select(r => new PreviousTags(r.Record.Id, tags.Keys.ToDictionary(k => k, k => r.Record.Metadata.TryGetValue(k, out var v) ? v : null, StringComparer.Ordinal)))
            .ToList();
        var tagged = await _store.TagAsync(set, ids, tags, cancellationToken).ConfigureAwait(false);
        return (tagged, Add(new Entry(set, before, null, Expiry())));
    }

    /// <summary>Holds back the delete of <paramref name="records"/> for the undo window; returns the undo token.</summary>
    public string DeferDelete(StoredEmbeddingSet set, IReadOnlyList<Protocol.V1.StoredRecord> records)
    {
        ArgumentNullException.ThrowIfNull(records);
        var entry = new Entry(set, null, [.. records.Select(r => (r.Record.Id, r.Sequence))], Expiry());
        var token = Add(entry);
        entry.Timer = _time.CreateTimer(_ => _ = CommitAsync(token), null, _window, Timeout.InfiniteTimeSpan);
        return token;
    }

    /// <summary>
    /// Remembers the reviews records had before a label or review action (read before it), for an undo within the
    /// window that puts them back; returns the token.
    /// </summary>
    public string RememberReviews(StoredEmbeddingSet set, IReadOnlyList<ReviewSnapshot> previous)
    {
        ArgumentNullException.ThrowIfNull(previous);
        return Add(new Entry(set, null, null, Expiry(), previous));
    }

    /// <summary>Sequences of <paramref name="set"/> whose delete waits out its undo window.</summary>
    public IReadOnlySet<long> PendingDeletes(StoredEmbeddingSet set)
    {
        ArgumentNullException.ThrowIfNull(set);
        var pending = new HashSet<long>();
        foreach (var entry in _entries.Values)
        {
            if (entry.Deletes is { } deletes && entry.Set.Key == set.Key)
            {
                pending.UnionWith(deletes.Select(d => d.Sequence));
            }
        }

        return pending;
    }

    /// <summary>
    /// When the delete of record <paramref name="sequence"/> of <paramref name="set"/> is committed (its undo window ends),
    /// or null when no delete of it waits: a record opened by its link in another tab is shown as deleted, not unreviewed.
    /// </summary>
    public DateTimeOffset? PendingDeleteUntil(StoredEmbeddingSet set, long sequence)
    {
        ArgumentNullException.ThrowIfNull(set);
        return _entries.Values
            .Where(entry => entry.Deletes is { } deletes && entry.Set.Key == set.Key && deletes.Any(d => d.Sequence == sequence))
            .Select(entry => (DateTimeOffset?)entry.Expires)
            .Max();
    }

    /// <summary>Undoes the action of <paramref name="token"/>; null when the token is unknown, used or expired.</summary>
    public async Task<UndoResult?> UndoAsync(string? token, CancellationToken cancellationToken = default)
    {
        // Past its window a delete belongs to its timer, which commits it.
        if (string.IsNullOrEmpty(token) || !_entries.TryGetValue(token, out var entry) || entry.Expires < _time.GetUtcNow()
            || !_entries.TryRemove(token, out entry))
        {
            return null;
        }

        if (entry.Deletes is { } deletes)
        {
            await entry.Timer!.DisposeAsync().ConfigureAwait(false);
            return new UndoResult("delete", deletes.Count);
        }

        if (entry.Reviews is { } reviews)
        {
            // Labels and review states back as they were (an undone label is gone, not only reopened).
            await (_labeling ?? throw new InvalidOperationException("Studio's undo of a review needs the labeling service."))
                .RestoreAsync(entry.Set, reviews, StudioApi.Reviewer, cancellationToken).ConfigureAwait(false);
            return new UndoResult("review", reviews.Count) { Restored = (entry.Set, [.. reviews.Select(r => r.Sequence)]) };
        }

        // Each key back to what each record held: records that had no such key lose it again.
        foreach (var group in entry.Tags!.SelectMany(t => t.Values.Select(v => (t.Id, v.Key, v.Value))).GroupBy(x => (x.Key, x.Value)))
        {
            var ids = group.Select(x => x.Id).ToList();
            if (group.Key.Value is { } previous)
            {
                await _store.TagAsync(entry.Set, ids, new Dictionary<string, string> { [group.Key.Key] = previous }, cancellationToken).ConfigureAwait(false);
            }
            else
            {
                await _store.RemoveTagsAsync(entry.Set, ids, [group.Key.Key], cancellationToken).ConfigureAwait(false);
            }
        }

        return new UndoResult("tag", entry.Tags!.Count);
    }

    /// <summary>Commits every delete still waiting (the server is stopping: nothing confirmed is lost).</summary>
    public async ValueTask DisposeAsync()
    {
        foreach (var token in _entries.Keys.ToList())
        {
            await CommitAsync(token).ConfigureAwait(false);
        }
    }

    private async Task CommitAsync(string token)
    {
        if (!_entries.TryRemove(token, out var entry) || entry.Deletes is not { } deletes)
        {
            return;
        }

        if (entry.Timer is { } timer)
        {
            await timer.DisposeAsync().ConfigureAwait(false);
        }

        try
        {
            var deleted = await _store.DeleteAsync(entry.Set, [.. deletes.Select(d => d.Id)]).ConfigureAwait(false);
            StudioLog.DeferredDeleteCommitted(_logger, (int)deleted, entry.Set.SetId);
        }
#pragma warning disable CA1031 // A timer callback has no caller: log, keep the records, never crash the server.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            StudioLog.DeferredDeleteFailed(_logger, ex, deletes.Count, entry.Set.SetId);
        }
    }

    private string Add(Entry entry)
    {
        // Tag entries past their window are dropped here; deletes leave when their timer commits them.
        var now = _time.GetUtcNow();
        foreach (var (key, old) in _entries)
        {
            if (old.Deletes is null && old.Expires < now)
            {
                _entries.TryRemove(key, out _);
            }
        }

        var token = Convert.ToHexString(RandomNumberGenerator.GetBytes(16));
        _entries[token] = entry;
        return token;
    }

    private DateTimeOffset Expiry() => _time.GetUtcNow() + _window;

    /// <summary>What one record's tagged keys held before (null: absent).</summary>
    private sealed record PreviousTags(string Id, Dictionary<string, string?> Values);

    private sealed class Entry(
        StoredEmbeddingSet set, List<PreviousTags>? tags, List<(string Id, long Sequence)>? deletes, DateTimeOffset expires, IReadOnlyList<ReviewSnapshot>? reviews = null)
    {
        public StoredEmbeddingSet Set { get; } = set;

        public List<PreviousTags>? Tags { get; } = tags;

        public IReadOnlyList<ReviewSnapshot>? Reviews { get; } = reviews;

        public List<(string Id, long Sequence)>? Deletes { get; } = deletes;

        public DateTimeOffset Expires { get; } = expires;

        public ITimer? Timer { get; set; }
    }
}
