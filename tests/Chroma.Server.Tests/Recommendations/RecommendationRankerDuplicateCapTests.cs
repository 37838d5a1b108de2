using Chroma.Server.Recommendations;
using NUnit.Framework;

namespace Chroma.Server.Tests.Recommendations;

/// <summary>
/// A flood longer than <see cref="RecommendationOptions.MaxDuplicateIdsPerEntry"/> is one entry that lists the cap's
/// highest-scored copies and counts every copy, so one entry stays small however long the flood is.
/// </summary>
public class RecommendationRankerDuplicateCapTests
{
    [TestCase(1_200, 1_000, Description = "the default cap (1,000)")]
    [TestCase(75, 10, Description = "a small cap")]
    [TestCase(75, 0, Description = "no ids at all, only the count")]
    [TestCase(75, 74, Description = "exactly the flood's duplicates: nothing cut")]
    public void Rank_FloodBeyondTheCap_ListsTheHighestScoredCopiesAndCountsThemAll(int flood, int cap)
    {
        // Known answer: `flood` near-copies score highest, copy0000 first, then 30 distinct records.
        var records = RecordsInScoreOrder.FloodThenDistinct(flood, distinct: 30);
        var options = cap == 1_000 ? new RecommendationOptions() : new RecommendationOptions { MaxDuplicateIdsPerEntry = cap };
        Assert.That(options.MaxDuplicateIdsPerEntry, Is.EqualTo(cap));

        var ranked = RecommendationRanker.Rank(records, RecommendationStrategy.Balanced, 1_000, options);

        var copy = ranked.Single(r => r.Id.StartsWith("copy", StringComparison.Ordinal));
        var expectedIds = Enumerable.Range(1, Math.Min(cap, flood - 1)).Select(i => records[i].Id);
        Assert.Multiple(() =>
        {
            Assert.That(copy.Id, Is.EqualTo("copy0000"));
            Assert.That(copy.DuplicateIds, Is.EqualTo(expectedIds), "the highest-scored copies after the entry's own, in score order");
            Assert.That(copy.DuplicateCount, Is.EqualTo(flood - 1), "every copy counted, those not listed included");
            Assert.That(ranked, Has.Count.EqualTo(31), "the distinct records after the flood are still served");
            Assert.That(ranked.Where(r => r != copy).Select(r => r.DuplicateCount), Has.All.Zero);
            Assert.That(ranked.Sum(r => 1 + r.DuplicateCount), Is.EqualTo(records.Length), "entries and their counts count every record once");
            Assert.That(ranked.SelectMany(r => r.DuplicateIds.Prepend(r.Id)), Is.Unique);
        });
    }
}
