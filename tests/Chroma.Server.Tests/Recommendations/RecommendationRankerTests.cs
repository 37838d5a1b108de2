using Chroma.Server.Recommendations;
using Chroma.Server.Tests.Recommendations.Data;
using NUnit.Framework;

namespace Chroma.Server.Tests.Recommendations;

public class RecommendationRankerTests
{
    private const int Dimension = 8;

    [Test]
    public void Rank_NearDuplicatesOfOneOutlier_CollapseIntoOneEntryWithDuplicateIds()
    {
        var model = Fit();
        var outlier = SyntheticEmbeddings.Axis(Dimension, 6, 30);
        var copies = SyntheticEmbeddings.Around(outlier, 4, 0.01, seed: 21);
        var other = SyntheticEmbeddings.Axis(Dimension, 7, 20);
        var ordinary = SyntheticEmbeddings.Around(SyntheticEmbeddings.Axis(Dimension, 0, 6), 20, 1, seed: 22);
        var batch = new ProductionBatch(
            [.. SyntheticEmbeddings.Ids(4, "copy"), "other", .. SyntheticEmbeddings.Ids(20, "ordinary")],
            [.. copies, .. other, .. ordinary],
            Dimension,
            Enumerable.Repeat<string?>("0", 25).ToArray());
        var scored = RecommendationScorer.Score(model, batch);

        var ranked = RecommendationRanker.Rank(scored, RecommendationStrategy.OutOfDistribution, 5);

        Assert.That(ranked.Take(2).Select(r => r.Id), Is.EquivalentTo(new[] { ranked[0].Id, "other" }));
        var copyEntry = ranked.Single(r => r.Id.StartsWith("copy", StringComparison.Ordinal));
        Assert.That(copyEntry.DuplicateIds, Has.Count.EqualTo(3));
        Assert.That(copyEntry.DuplicateIds.Append(copyEntry.Id), Is.EquivalentTo(SyntheticEmbeddings.Ids(4, "copy")));
        Assert.That(copyEntry.Reasons[0], Does.StartWith("far from all training classes"));
        Assert.That(ranked.Select(r => r.Id), Is.Unique);
    }

    [Test]
    public void Rank_ScoresAreDescendingWithoutDiversity()
    {
        var model = Fit();
        var points = SyntheticEmbeddings.Around(new float[Dimension], 50, 4, seed: 23);
        var scored = RecommendationScorer.Score(model, new ProductionBatch(SyntheticEmbeddings.Ids(50), points, Dimension));
        var options = new RecommendationOptions { DiversityWeight = 0, NearDuplicateThreshold = 0 };

        var ranked = RecommendationRanker.Rank(scored, RecommendationStrategy.Balanced, 10, options);

        Assert.That(ranked.Select(r => r.Score), Is.Ordered.Descending);
        var best = scored.Max(r => SignalCombiner.Score(r.Signals, RecommendationStrategy.Balanced));
        Assert.That(ranked[0].Score, Is.EqualTo(best));
    }

    [Test]
    public void Rank_NoRecords_ReturnsEmpty()
    {
        Assert.That(RecommendationRanker.Rank([], RecommendationStrategy.Balanced, 10), Is.Empty);
    }

    [Test]
    public void Rank_InvalidOptions_ThrowsNamingSetting()
    {
        var options = new RecommendationOptions { DiversityWeight = 2 };

        Assert.That(
            () => RecommendationRanker.Rank([], RecommendationStrategy.Balanced, 10, options),
            Throws.InstanceOf<ArgumentOutOfRangeException>().With.Property("ParamName").EqualTo("DiversityWeight"));
    }

    private static RecommendationModel Fit()
    {
        var (embeddings, labels) = SyntheticEmbeddings.Clusters(3, 100, Dimension, 6, seed: 20);
        return RecommendationModel.Fit(new TrainingData(embeddings, Dimension, labels), "v1");
    }
}
