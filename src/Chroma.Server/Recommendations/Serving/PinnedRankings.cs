using Chroma.Server.Labeling;
using Chroma.Server.Recommendations.Scheduling;

namespace Chroma.Server.Recommendations.Serving;

/// <summary>
/// Keeps the scores (and the reviewed records left out) that a client's pages were cut from, so the next page comes
/// from the same ranking even after the worker published a new one: without it a page token was an offset into
/// whatever ranking was current, and pages repeated some records and skipped others while production kept arriving.
/// </summary>
/// <remarks>
/// Bounded, because a set's scores are large (at a million records, about as large as the set's ranking data itself):
/// a ranking no page was asked of for <see cref="IdleLimit"/> is dropped, and a set keeps at most <see cref="MaxPerSet"/>
/// replaced ranking besides its current one (the least recently used goes), so paging costs at most one more copy of a
/// set's scores. A token whose ranking is gone is refused (FailedPrecondition); the caller starts again from the first
/// page (a listing slower than two publications of the ranking cannot finish).
/// </remarks>
internal sealed class PinnedRankings(TimeProvider time)
{
    /// <summary>How long a ranking is kept after the last page asked of it.</summary>
    public static readonly TimeSpan IdleLimit = TimeSpan.FromMinutes(5);

    /// <summary>Most rankings kept per set besides the current one.</summary>
    public const int MaxPerSet = 1;

    private readonly Lock _lock = new();
    private readonly Dictionary<(long SetKey, RankingAnchor Anchor), Pinned> _pinned = [];

    /// <summary>
    /// Keeps the ranking of <paramref name="scores"/> less <paramref name="excluded"/> (and, for a metadata filter, only
    /// <paramref name="matching"/>, the records it matched) for the pages after one just served.
    /// </summary>
    public void Pin(long setKey, SetScores scores, ReviewedSnapshot? excluded, IReadOnlySet<long>? matching = null)
    {
        ArgumentNullException.ThrowIfNull(scores);
        var now = time.GetTimestamp();
        var anchor = RankingAnchor.Of(scores, excluded).Filtered(matching);
        lock (_lock)
        {
            DropIdle(now);
            _pinned[(setKey, anchor)] = new Pinned(scores, excluded, matching, now);
            var ofSet = _pinned.Where(p => p.Key.SetKey == setKey).OrderByDescending(p => p.Value.LastUsed).Skip(MaxPerSet + 1).Select(p => p.Key).ToList();
            foreach (var key in ofSet)
            {
                _pinned.Remove(key);
            }
        }
    }

    /// <summary>The scores and exclusions a token's ranking was cut from, if still kept.</summary>
    public (SetScores Scores, ReviewedSnapshot? Excluded, IReadOnlySet<long>? Matching)? Find(long setKey, RankingAnchor anchor)
    {
        var now = time.GetTimestamp();
        lock (_lock)
        {
            DropIdle(now);
            if (!_pinned.TryGetValue((setKey, anchor), out var pinned))
            {
                return null;
            }

            _pinned[(setKey, anchor)] = pinned with { LastUsed = now };
            return (pinned.Scores, pinned.Excluded, pinned.Matching);
        }
    }

    /// <summary>Gets how many rankings are kept (all sets).</summary>
    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _pinned.Count;
            }
        }
    }

    private void DropIdle(long now)
    {
        foreach (var key in _pinned.Where(p => time.GetElapsedTime(p.Value.LastUsed, now) > IdleLimit).Select(p => p.Key).ToList())
        {
            _pinned.Remove(key);
        }
    }

    private sealed record Pinned(SetScores Scores, ReviewedSnapshot? Excluded, IReadOnlySet<long>? Matching, long LastUsed);
}

/// <summary>
/// What identifies one ranking of a set: the fingerprints (<see cref="RankingFingerprint"/>) of the published scores and
/// of the reviewed records it leaves out (0 when it leaves none out). Content, not a counter of this process, so every
/// replica that serves the same ranking names it alike.
/// </summary>
internal readonly record struct RankingAnchor(ulong Scores, ulong Excluded)
{
    /// <summary>The anchor of the ranking cut from <paramref name="scores"/> less <paramref name="excluded"/>.</summary>
    public static RankingAnchor Of(SetScores scores, ReviewedSnapshot? excluded) =>
        new(RankingFingerprint.Of(scores), RankingFingerprint.Of(excluded));

    /// <summary>
    /// The anchor of this ranking cut to the records a metadata filter matched (<paramref name="matching"/>; null for no
    /// filter: this anchor): tags change what a filter matches without a new ranking, so a later page must know the
    /// records its first page was ranked from.
    /// </summary>
    public RankingAnchor Filtered(IReadOnlySet<long>? matching) =>
        matching is null ? this : this with { Excluded = RankingFingerprint.Combine(Excluded, RankingFingerprint.Compute(matching)) };
}
