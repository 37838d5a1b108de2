using Chroma.Server.Recommendations;
using NUnit.Framework;

namespace Chroma.Server.Tests.Recommendations;

/// <summary>The ranking goes on past the candidate pool: every record is an entry or a duplicate of one.</summary>
public class RecommendationRankerDepthTests
{
    private const int Pool = 20;

    private static readonly RecommendationOptions SmallPool = new() { CandidatePoolSize = Pool };

    [TestCase("Off")]
    [TestCase("Default")]
    [TestCase("Strong")]
    public void Rank_FloodLongerThanThePoolThenDistinctRecords_HoldsEveryRecordOnce(string mode)
    {
        // Known answer: 75 near-copies (almost four pools) score highest, 60 distinct records follow.
        var records = RecordsInScoreOrder.FloodThenDistinct(flood: 75, distinct: 60);

        var ranked = RecommendationRanker.Rank(records, RecommendationStrategy.Balanced, 1000, SmallPool, Enum.Parse<Diversity>(mode));

        Assert.That(ranked, Has.Count.EqualTo(61));
        var copy = ranked.Single(r => r.Id.StartsWith("copy", StringComparison.Ordinal));
        Assert.That(copy.Id, Is.EqualTo("copy0000"));
        Assert.That(copy.ScoreRank, Is.EqualTo(1));
        Assert.That(copy.DuplicateIds, Has.Count.EqualTo(74));
        Assert.That(ranked.SelectMany(r => r.DuplicateIds.Prepend(r.Id)), Is.EquivalentTo(records.Select(r => r.Id)));
        Assert.That(ranked.Where(r => r.Id != copy.Id).Select(r => r.ScoreRank), Is.EquivalentTo(Enumerable.Range(76, 60)), "score_rank counts the collapsed copies above");
    }

    [TestCase("Off")]
    [TestCase("Default")]
    [TestCase("Strong")]
    public void Rank_MoreDistinctRecordsThanThePool_HoldsEveryRecordInWholeBlocksByScore(string mode)
    {
        var diversity = Enum.Parse<Diversity>(mode);
        var records = RecordsInScoreOrder.FloodThenDistinct(flood: 0, distinct: 130);
        var window = SmallPool.Spread(diversity).Window;

        var ranked = RecommendationRanker.Rank(records, RecommendationStrategy.Balanced, 1000, SmallPool, diversity);

        Assert.That(ranked.Select(r => r.Id), Is.EquivalentTo(records.Select(r => r.Id)));
        Assert.That(ranked.SelectMany(r => r.DuplicateIds), Is.Empty);
        for (var start = 0; start < ranked.Count; start += window)
        {
            var block = ranked.Skip(start).Take(window).Select(r => r.ScoreRank);
            Assert.That(block, Is.EquivalentTo(Enumerable.Range(start + 1, Math.Min(window, ranked.Count - start))), $"block at {start}");
        }
    }

    [TestCase("Default", 1)]
    [TestCase("Default", 7)]
    [TestCase("Default", 33)]
    [TestCase("Strong", 50)]
    [TestCase("Off", 12)]
    public void Rank_AskedForFewerEntries_ReturnsAPrefixOfTheWholeRanking(string mode, int count)
    {
        // Pages are prefixes of one ranking: asking for a shallow one must not settle the flood differently.
        var diversity = Enum.Parse<Diversity>(mode);
        var records = RecordsInScoreOrder.FloodThenDistinct(flood: 45, distinct: 70);
        var whole = RecommendationRanker.Rank(records, RecommendationStrategy.Balanced, 1000, SmallPool, diversity);

        var shallow = RecommendationRanker.Rank(records, RecommendationStrategy.Balanced, count, SmallPool, diversity);

        Assert.That(shallow.Select(r => (r.Id, r.ScoreRank, string.Join(",", r.DuplicateIds))), Is.EqualTo(whole.Take(count).Select(r => (r.Id, r.ScoreRank, string.Join(",", r.DuplicateIds)))));
    }
}
