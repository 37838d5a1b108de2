using Chroma.Server.Recommendations;
using Chroma.Server.Recommendations.Scheduling;
using Chroma.Server.Recommendations.Serving;
using Chroma.Server.Storage;
using Chroma.Server.Tests.Recommendations;
using NUnit.Framework;

namespace Chroma.Server.Tests.Recommendations.Serving;

/// <summary>Paging a ranking to its end serves every scored record once, however small the candidate pool.</summary>
public class RecommendationPagesDepthTests
{
    private static readonly StoredEmbeddingSet Set = new(1, "m/v1/fc", new Chroma.Protocol.V1.EmbeddingSetDescriptor { Model = "m", ModelVersion = "v1", Layer = "fc", Dimension = 32 });

    [TestCase(75, 60, 7)]
    [TestCase(75, 60, 100)]
    [TestCase(0, 250, 9)]
    [TestCase(300, 5, 10)]
    public void GetPage_PagedToTheEndWithAPoolOfTwenty_ServesEveryRecordOnceAndAnExactTotal(int flood, int distinct, int pageSize)
    {
        var records = RecordsInScoreOrder.FloodThenDistinct(flood, distinct);
        var scores = new SetScores([.. records.Select((r, i) => new ScoredEntry(i + 1, "production", r))], "v1", 1, 1, null);
        var pages = new RecommendationPages(null!, new RecommendationOptions { CandidatePoolSize = 20 });
        var served = new List<Recommendation>();
        RecommendationPageResult page;
        do
        {
            var request = new RecommendationPageRequest(RecommendationStrategy.Balanced, "production", new Dictionary<string, string>(), AllScores: false, served.Count, pageSize);
            page = pages.GetPage(Set, scores, request);
            served.AddRange(page.Items.Select(i => i.Item));
        }
        while (page.HasMore && served.Count < 10_000);

        var entries = distinct + (flood > 0 ? 1 : 0);
        Assert.That(served.SelectMany(r => r.DuplicateIds.Prepend(r.Id)), Is.EquivalentTo(records.Select(r => r.Id)));
        Assert.That(served, Has.Count.EqualTo(entries));
        Assert.That(page.Total, Is.EqualTo(entries));
        Assert.That(page.Scored, Is.EqualTo(flood + distinct));
    }
}
