namespace Chroma.Server.Recommendations;

/// <summary>
/// Ranks scored production records: combine signals into one score per strategy, take the top
/// <see cref="RecommendationOptions.CandidatePoolSize"/>, collapse near-duplicates to their top-scored
/// member, then pick a spread-out top list with <see cref="KCenterGreedySelector"/>.
/// </summary>
internal static class RecommendationRanker
{
    /// <summary>Returns up to <paramref name="count"/> recommendations, best first.</summary>
    /// <param name="records">Scored production records (any model version; the caller keeps them current).</param>
    /// <param name="strategy">What to favour.</param>
    /// <param name="count">How many to return (for paging, ask for offset + page size).</param>
    /// <param name="options">Pool size, duplicate threshold, diversity weight; defaults when null.</param>
    public static IReadOnlyList<Recommendation> Rank(
        IReadOnlyList<ScoredRecord> records,
        RecommendationStrategy strategy,
        int count,
        RecommendationOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(records);
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 0);
        options ??= new RecommendationOptions();
        options.Validate();
        if (count == 0 || records.Count == 0)
        {
            return [];
        }

        var scores = new double[records.Count];
        Parallel.For(0, records.Count, i => scores[i] = SignalCombiner.Score(records[i].Signals, strategy));

        // Descending score, ties by id so the ranking is deterministic.
        var poolSize = Math.Min(records.Count, Math.Max(count, options.CandidatePoolSize));
        var pool = Enumerable.Range(0, records.Count)
            .OrderByDescending(i => scores[i])
            .ThenBy(i => records[i].Id, StringComparer.Ordinal)
            .Take(poolSize)
            .ToArray();

        var groups = NearDuplicateGrouper.Group(pool.Select(i => records[i].UnitEmbedding).ToArray(), options.NearDuplicateThreshold);

        // Pool order is score order, so each group's first member is its top-scored one.
        var representatives = groups.Select(g => pool[g[0]]).ToArray();
        var picks = KCenterGreedySelector.Select(
            representatives.Select(i => records[i].UnitEmbedding).ToArray(),
            representatives.Select(i => scores[i]).ToArray(),
            count,
            options.DiversityWeight);

        return picks.Select(p =>
        {
            var group = groups[p];
            var record = records[pool[group[0]]];
            return new Recommendation(
                record.Id,
                scores[pool[group[0]]],
                record.Signals,
                ReasonWriter.Write(record, strategy),
                group.Skip(1).Select(g => records[pool[g]].Id).ToArray());
        }).ToArray();
    }
}
