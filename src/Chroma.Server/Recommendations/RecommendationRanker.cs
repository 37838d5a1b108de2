using Chroma.Server.Recommendations.Internal;

namespace Chroma.Server.Recommendations;

/// <summary>
/// Ranks scored production records: combine signals into one score per strategy, take the top
/// <see cref="RecommendationOptions.CandidatePoolSize"/>, collapse near-duplicates to their top-scored
/// member, then spread the list out with <see cref="ScoreBoundedDiversitySelector"/>, which reorders consecutive
/// blocks of a few records by score and never exchanges a record for a lower-scored one from a later block.
/// </summary>
internal static class RecommendationRanker
{
    // Below this many records one thread scores them faster than fanning out to the thread pool.
    private const int ParallelScoringThreshold = 50_000;

    /// <summary>Returns up to <paramref name="count"/> recommendations, best first.</summary>
    /// <param name="records">Scored production records (any model version; the caller keeps them current).</param>
    /// <param name="strategy">What to favour.</param>
    /// <param name="count">How many to return (for paging, ask for offset + page size).</param>
    /// <param name="options">Pool size, duplicate threshold, diversity windows; defaults when null.</param>
    /// <param name="diversity">How much spread the list trades for score.</param>
    public static IReadOnlyList<Recommendation> Rank(
        IReadOnlyList<ScoredRecord> records,
        RecommendationStrategy strategy,
        int count,
        RecommendationOptions? options = null,
        Diversity diversity = Diversity.Default)
    {
        ArgumentNullException.ThrowIfNull(records);
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 0);
        options ??= new RecommendationOptions();
        if (count == 0 || records.Count == 0)
        {
            return [];
        }

        var scores = new double[records.Count];
        if (records.Count < ParallelScoringThreshold)
        {
            for (var i = 0; i < scores.Length; i++)
            {
                scores[i] = SignalCombiner.Score(records[i], strategy);
            }
        }
        else
        {
            Parallel.For(0, records.Count, i => scores[i] = SignalCombiner.Score(records[i], strategy));
        }

        if (strategy == RecommendationStrategy.Labeling && diversity != Diversity.Off)
        {
            return LabelingSelector.Select(records, scores, count, options);
        }

        // Descending score, ties by id so the ranking is deterministic.
        var (window, relevance) = options.Spread(diversity);
        var poolSize = Math.Min(records.Count, Math.Max(count + window, options.CandidatePoolSize));
        var pool = TopScores.Select(scores, i => records[i].Id, poolSize);

        var groups = NearDuplicateGrouper.Group(pool.Select(i => records[i].UnitEmbedding).ToArray(), options.NearDuplicateThreshold);

        // Pool order is score order, so each group's first member is its top-scored one, and groups
        // (ordered by first member) are in score order too.
        var representatives = groups.Select(g => pool[g[0]]).ToArray();
        var picks = ScoreBoundedDiversitySelector.Select(
            representatives.Select(i => records[i].UnitEmbedding).ToArray(),
            representatives.Select(i => scores[i]).ToArray(),
            count,
            window,
            relevance);

        return picks.Select(p =>
        {
            var group = groups[p];
            var record = records[pool[group[0]]];
            return new Recommendation(
                record.Id,
                scores[pool[group[0]]],
                record.Signals,
                ReasonWriter.Write(record, strategy),
                group.Skip(1).Select(g => records[pool[g]].Id).ToArray())
            {
                ScoreRank = group[0] + 1,
                ShiftLeadSurprise = record.ShiftLeadSurprise,
                BoundaryFactor = record.BoundaryFactor,
            };
        }).ToArray();
    }
}
