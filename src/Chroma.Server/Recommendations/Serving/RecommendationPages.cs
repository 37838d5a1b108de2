using System.Collections.Concurrent;
using Chroma.Server.Background;
using Chroma.Server.Recommendations.Scheduling;
using Chroma.Server.Storage;
using Microsoft.Extensions.Logging.Abstractions;

namespace Chroma.Server.Recommendations.Serving;

/// <summary>
/// Serves pages of a set's ranking from the scores the worker published. The ranking of a
/// (set, strategy, dataset, mode) is computed once per published revision and cached, deep enough
/// for the page asked for; metadata filters are read from the store on each call (tags change
/// them without a new revision) and are not cached.
/// </summary>
/// <remarks>
/// A ranking of a million records takes about a second to compute. So when the worker publishes a set's new ranking,
/// the rankings of that set asked for at the previous revision are computed again on the background threads
/// (<see cref="Refresh"/>): a client that polls its queue finds the new ranking ready instead of paying for it in its
/// request. A ranking nobody asked for since the last refresh is not refreshed again.
/// </remarks>
internal sealed partial class RecommendationPages
{
    // Depth of the first ranking computed for a key: a few pages without recomputing.
    private const int MinimumDepth = 100;
    private const int MaxCachedRankings = 256;
    private const int MaxOlderRankings = 2;

    private readonly IRecordScoreStore _store;
    private readonly RecommendationOptions _options;
    private readonly ConcurrentDictionary<CacheKey, CachedRanking> _cache = new();

    // Rankings of replaced scores that clients still page through (PinnedRankings keeps their scores).
    private readonly ConcurrentDictionary<(CacheKey Key, long Revision, long ExcludedVersion), CachedRanking> _older = new();

    // The revision each key was last asked at: a refresh only recomputes rankings in use.
    private readonly ConcurrentDictionary<CacheKey, long> _asked = new();
    private readonly ScoringScheduler? _scheduler;
    private readonly BackgroundWorkLimiter? _limiter;
    private readonly ILogger _logger;
    private long _rankingsComputed;

    /// <summary>Creates the server of pages (no refresh in the background).</summary>
    public RecommendationPages(IRecordScoreStore store, RecommendationOptions options)
    {
        _store = store;
        _options = options;
        _logger = NullLogger.Instance;
    }

    /// <summary>Creates the server of pages that refreshes the rankings in use when <paramref name="scheduler"/> publishes a set's scores.</summary>
    public RecommendationPages(
        IRecordScoreStore store, RecommendationOptions options, ScoringScheduler scheduler, BackgroundWorkLimiter limiter, ILogger<RecommendationPages> logger)
        : this(store, options)
    {
        ArgumentNullException.ThrowIfNull(scheduler);
        _scheduler = scheduler;
        _limiter = limiter;
        _logger = logger;
        scheduler.RankingPublished += OnRankingPublished;
    }

    /// <summary>Gets how many rankings were computed (by requests and refreshes).</summary>
    public long RankingsComputed => Interlocked.Read(ref _rankingsComputed);

    /// <summary>The page <paramref name="request"/> asks for, ranked from <paramref name="scores"/>.</summary>
    public RecommendationPageResult GetPage(StoredEmbeddingSet set, SetScores scores, RecommendationPageRequest request)
    {
        ArgumentNullException.ThrowIfNull(set);
        ArgumentNullException.ThrowIfNull(scores);
        ArgumentNullException.ThrowIfNull(request);
        var need = request.Offset + request.PageSize + 1; // one more says whether a next page exists
        CachedRanking ranking;
        if (request.Metadata.Count > 0)
        {
            var matching = request.Matching ?? _store.SelectSequences(set, new RecordSelection(request.Dataset, request.Metadata));
            var (candidates, inDataset) = Candidates(scores, request, matching);
            ranking = Rank(candidates, request, need, previous: null) with { DatasetCount = inDataset };
        }
        else
        {
            ranking = Cached(set, scores, request, need);
        }

        var items = ranking.Items.Skip(request.Offset).Take(request.PageSize).ToArray();
        var hasMore = ranking.Items.Count > request.Offset + request.PageSize;
        return new RecommendationPageResult(
            [.. items.Select(i => request.AllScores ? WithReasons(i, request.Strategy) : (i.Sequence, i.Item))],
            ranking.Complete ? ranking.Items.Count : Math.Max(ranking.Items.Count, request.Offset + items.Length),
            hasMore,
            ranking.DatasetCount);
    }

    // The dataset's scored records left after the reviewed ones and the metadata filter, and how many the dataset has.
    private static (ScoredEntry[] Candidates, int InDataset) Candidates(SetScores scores, RecommendationPageRequest request, IReadOnlySet<long>? matching)
    {
        var excluded = request.Excluded?.Sequences;
        var inDataset = 0;
        var candidates = new List<ScoredEntry>();
        foreach (var entry in scores.Entries)
        {
            if (!string.Equals(entry.Dataset, request.Dataset, StringComparison.Ordinal))
            {
                continue;
            }

            inDataset++;
            if ((excluded is null || !excluded.Contains(entry.Sequence)) && (matching is null || matching.Contains(entry.Sequence)))
            {
                candidates.Add(entry);
            }
        }

        return ([.. candidates], inDataset);
    }

    private static (long Sequence, Recommendation Item) WithReasons(RankedEntry entry, RecommendationStrategy strategy) =>
        (entry.Sequence, entry.Item with { Reasons = ReasonWriter.Write(entry.Record, strategy) });

    private CachedRanking Cached(StoredEmbeddingSet set, SetScores scores, RecommendationPageRequest request, int need)
    {
        // Reviews change what is left out without a new revision: the cache keys on both. A cached ranking is served
        // without looking at the scores again (a million-record set costs a scan per look).
        // all_scores ignores diversity: one score list whatever a request names, cached once.
        var key = new CacheKey(set.Key, request.Strategy, request.Dataset, request.AllScores, request.AllScores ? Diversity.Off : request.Diversity, request.Excluded is not null);
        var excludedVersion = request.Excluded?.Version ?? 0;
        if (_cache.TryGetValue(key, out var newer) && (newer.Revision > scores.Revision || (newer.Revision == scores.Revision && newer.ExcludedVersion > excludedVersion)))
        {
            // A later page of a replaced ranking (PinnedRankings): cached beside the current one, not in its place.
            return Older(key, scores, request, need);
        }

        _asked[key] = scores.Revision;
        var current = _cache.TryGetValue(key, out var cached) && cached.Revision == scores.Revision && cached.ExcludedVersion == excludedVersion;
        if (current && (cached!.Complete || cached.Items.Count >= need))
        {
            return cached;
        }

        var fresh = Deepened(scores, request, need, current ? cached : null);
        if (_cache.Count >= MaxCachedRankings)
        {
            _cache.Clear();
            _asked.Clear();
        }

        _cache[key] = fresh;
        return fresh;
    }

    private CachedRanking Older(CacheKey key, SetScores scores, RecommendationPageRequest request, int need)
    {
        var olderKey = (key, scores.Revision, request.Excluded?.Version ?? 0);
        if (_older.TryGetValue(olderKey, out var cached) && (cached.Complete || cached.Items.Count >= need))
        {
            return cached;
        }

        var fresh = Deepened(scores, request, need, cached);
        if (_older.Count >= MaxOlderRankings)
        {
            _older.Clear();
        }

        _older[olderKey] = fresh;
        return fresh;
    }

    // The ranking of `scores` for `request`, at least `need` deep (going on from `previous`, the same ranking less deep).
    private CachedRanking Deepened(SetScores scores, RecommendationPageRequest request, int need, CachedRanking? previous)
    {
        var (candidates, inDataset) = Candidates(scores, request, matching: null);
        return Rank(candidates, request, need, previous) with
        {
            Revision = scores.Revision, ExcludedVersion = request.Excluded?.Version ?? 0, DatasetCount = inDataset, Request = request,
        };
    }

    private CachedRanking Rank(ScoredEntry[] candidates, RecommendationPageRequest request, int need, CachedRanking? previous)
    {
        Interlocked.Increment(ref _rankingsComputed);
        if (request.AllScores)
        {
            // Every record, best first, ties by id; reasons are written for the served page only.
            var ordered = candidates
                .Select(e => (Entry: e, Score: SignalCombiner.Score(e.Record, request.Strategy)))
                .OrderByDescending(e => e.Score)
                .ThenBy(e => e.Entry.Record.Id, StringComparer.Ordinal)
                .Select((e, rank) => new RankedEntry(e.Entry.Sequence, e.Entry.Record, new Recommendation(e.Entry.Record.Id, e.Score, e.Entry.Record.Signals, [], []) { ScoreRank = rank + 1, ShiftLeadSurprise = e.Entry.Record.ShiftLeadSurprise, BoundaryFactor = e.Entry.Record.BoundaryFactor }))
                .ToArray();
            return new CachedRanking(0, ordered, Complete: true);
        }

        // Deepen geometrically so paging far does not rank again on every page.
        var depth = Math.Max(Math.Max(need, MinimumDepth), (previous?.Items.Count ?? 0) * 2);
        var records = new ScoredRecord[candidates.Length];
        for (var i = 0; i < records.Length; i++)
        {
            records[i] = candidates[i].Record;
        }

        var ranked = RecommendationRanker.Rank(records, request.Strategy, depth, _options, request.Diversity);
        var wanted = Entries(candidates, ranked);
        return new CachedRanking(0, [.. ranked.Select(r => new RankedEntry(wanted[r.Id]!.Sequence, wanted[r.Id]!.Record, r))], Complete: ranked.Count < depth);
    }

    // Back from the ranked ids to their entries in one pass over the candidates. The ranker names each entry by its
    // record's own id string, so the lookup compares references (no hash of a million strings: 64 ms at a million
    // records, `recs-page`); should an id come back as another string, an ordinal lookup finds it.
    private static Dictionary<string, ScoredEntry?> Entries(ScoredEntry[] candidates, IReadOnlyList<Recommendation> ranked)
    {
        var (byReference, found) = Map(ReferenceEqualityComparer.Instance);
        return found == byReference.Count ? byReference : Map(StringComparer.Ordinal).Entries;

        (Dictionary<string, ScoredEntry?> Entries, int Found) Map(IEqualityComparer<string> comparer)
        {
            var entries = new Dictionary<string, ScoredEntry?>(ranked.Count, comparer);
            foreach (var item in ranked)
            {
                entries[item.Id] = null;
            }

            var matched = 0;
            foreach (var entry in candidates)
            {
                if (entries.ContainsKey(entry.Record.Id))
                {
                    entries[entry.Record.Id] = entry;
                    matched++;
                }
            }

            return (entries, matched);
        }
    }

    private readonly record struct CacheKey(long SetKey, RecommendationStrategy Strategy, string Dataset, bool AllScores, Diversity Diversity, bool ExcludesReviewed);

    private readonly record struct RankedEntry(long Sequence, ScoredRecord Record, Recommendation Item);

    private sealed record CachedRanking(long Revision, IReadOnlyList<RankedEntry> Items, bool Complete)
    {
        public long ExcludedVersion { get; init; }

        public int DatasetCount { get; init; }

        public RecommendationPageRequest? Request { get; init; }
    }
}
