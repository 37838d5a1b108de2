using Chroma.Server.Recommendations;
using Chroma.Server.Recommendations.Scheduling;
using Chroma.Server.Recommendations.Serving;
using Chroma.Server.Storage;
using Chroma.Server.Tests.Recommendations;
using NUnit.Framework;

namespace Chroma.Server.Tests.Recommendations.Serving;

/// <summary>
/// all_scores ignores diversity (proto: "How much the ranked list trades score for spread (ignored with all_scores)"), so
/// its score list is one ranking whatever diversity a request names. It was cached once per diversity value: a
/// million-record set held three copies of the same full score list (about 120 MB each) and computed it three times.
/// </summary>
public class RecommendationPagesAllScoresCacheTests
{
    private static readonly StoredEmbeddingSet Set = new(1, "m/v1/fc", new Chroma.Protocol.V1.EmbeddingSetDescriptor { Model = "m", ModelVersion = "v1", Layer = "fc", Dimension = 32 });

    [Test]
    public void GetPage_AllScoresAskedWithEachDiversity_RanksOnceAndServesTheSameList()
    {
        // Arrange
        var records = RecordsInScoreOrder.FloodThenDistinct(0, 50);
        var scores = new SetScores([.. records.Select((r, i) => new ScoredEntry(i + 1, "production", r))], "v1", 1, 1, null);
        var pages = new RecommendationPages(null!, new RecommendationOptions());

        // Act
        var lists = new[] { Diversity.Off, Diversity.Default, Diversity.Strong }
            .Select(diversity => pages.GetPage(Set, scores, new RecommendationPageRequest(
                RecommendationStrategy.Balanced, "production", new Dictionary<string, string>(), AllScores: true, 0, 50, diversity)))
            .Select(page => page.Items.Select(i => i.Item.Id).ToList())
            .ToList();

        // Assert
        Assert.Multiple(() =>
        {
            Assert.That(lists[1], Is.EqualTo(lists[0]));
            Assert.That(lists[2], Is.EqualTo(lists[0]));
            Assert.That(pages.RankingsComputed, Is.EqualTo(1), "one score list, computed and cached once");
        });
    }
}
