using Chroma.Server.Recommendations.Internal;

namespace Chroma.Server.Recommendations;

/// <summary>
/// Ranks scored production records: combine signals into one score per strategy, collapse near-duplicates to their
/// top-scored member, then spread the list out with <see cref="ScoreBoundedDiversitySelector"/>, which reorders
/// consecutive blocks of a few records by score and never exchanges a record for a lower-scored one from a later block.
/// </summary>
/// <remarks>
/// The ranking holds every record, however many: it goes down the score order only as deep as the entries asked for
/// need. Each record is compared for near-duplicates with the <see cref="RecommendationOptions.CandidatePoolSize"/>
/// records scored just above it (<see cref="NearDuplicateGrouper"/>), so the pairwise work is linear in the depth ranked,
/// and a flood of near-copies (which scores alike, so lies together in the score order) collapses into its top-scored
/// copy however long it is, with the records after it following. An entry is served only once its group is settled:
/// its last member lies more than a pool above the first record not ranked yet, so no later record can join it, and
/// deepening the ranking never changes an entry already served (nor its duplicates). Why not a fixed pool of the top
/// 1,000 records (the previous design): a ranking ended at the pool, so a flood of 1,000 copies left one entry and hid
/// everything after it, and without a flood half of a 2,100-record stream was in no page.
/// </remarks>
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

        // Descending score, ties by id so the ranking is deterministic. The entries asked for come from whole blocks
        // of `window` distinct records; a record collapses into a near-copy at most `reach` places above it.
        var (window, relevance) = options.Spread(diversity);
        var reach = options.CandidatePoolSize;
        var blocks = (int)Math.Min(int.MaxValue, ((long)count + window - 1) / window * window);
        var depth = (int)Math.Min(records.Count, (long)blocks + reach);
        while (true)
        {
            var order = TopScores.Select(scores, i => records[i].Id, depth);
            var groups = NearDuplicateGrouper.Group(order.Select(i => records[i].UnitEmbedding).ToArray(), options.NearDuplicateThreshold, reach);
            var complete = depth == records.Count;

            // Order is score order, so each group's first member is its top-scored one, and groups (ordered by first
            // member) are in score order too. Settled groups: none of the records below `depth` can reach them.
            var settled = complete ? groups.Count : groups.TakeWhile(g => g[^1] < depth - reach).Count();
            if (complete || settled >= blocks)
            {
                return Entries(records, scores, strategy, order, groups, settled, count, window, relevance, options.MaxDuplicateIdsPerEntry);
            }

            depth = (int)Math.Min(records.Count, 2L * depth);
        }
    }

    private static Recommendation[] Entries(
        IReadOnlyList<ScoredRecord> records,
        double[] scores,
        RecommendationStrategy strategy,
        int[] order,
        IReadOnlyList<IReadOnlyList<int>> groups,
        int settled,
        int count,
        int window,
        double relevance,
        int maxDuplicateIds)
    {
        var representatives = groups.Take(settled).Select(g => order[g[0]]).ToArray();
        var picks = ScoreBoundedDiversitySelector.Select(
            representatives.Select(i => records[i].UnitEmbedding).ToArray(),
            representatives.Select(i => scores[i]).ToArray(),
            count,
            window,
            relevance);

        return picks.Select(p =>
        {
            var group = groups[p];
            var record = records[order[group[0]]];
            return new Recommendation(
                record.Id,
                scores[order[group[0]]],
                record.Signals,
                ReasonWriter.Write(record, strategy),
                // Groups are in score order: the ids listed are the highest-scored members after the entry's own.
                group.Skip(1).Take(maxDuplicateIds).Select(g => records[order[g]].Id).ToArray())
            {
                DuplicateCount = group.Count - 1,
                ScoreRank = group[0] + 1,
                ShiftLeadSurprise = record.ShiftLeadSurprise,
                BoundaryFactor = record.BoundaryFactor,
            };
        }).ToArray();
    }
}
