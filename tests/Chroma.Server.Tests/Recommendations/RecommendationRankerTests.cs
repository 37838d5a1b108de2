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
    public void Rank_DiversityOff_ScoresAreDescending()
    {
        var model = Fit();
        var points = SyntheticEmbeddings.Around(new float[Dimension], 50, 4, seed: 23);
        var scored = RecommendationScorer.Score(model, new ProductionBatch(SyntheticEmbeddings.Ids(50), points, Dimension));
        var options = new RecommendationOptions { NearDuplicateThreshold = 0 };

        var ranked = RecommendationRanker.Rank(scored, RecommendationStrategy.Balanced, 10, options, Diversity.Off);

        Assert.That(ranked.Select(r => r.Score), Is.Ordered.Descending);
        var best = scored.Max(r => SignalCombiner.Score(r, RecommendationStrategy.Balanced));
        Assert.That(ranked[0].Score, Is.EqualTo(best));
    }

    [Test]
    public void Rank_NoRecords_ReturnsEmpty()
    {
        Assert.That(RecommendationRanker.Rank([], RecommendationStrategy.Balanced, 10), Is.Empty);
    }

    [TestCase("Off")]
    [TestCase("Default")]
    [TestCase("Strong")]
    public void Rank_ShiftedRecordsAboveSpreadOutOrdinaryOnes_ServedTopKeepsNinetyPercentOfScoreOrderShare(string mode)
    {
        var diversity = Enum.Parse<Diversity>(mode);

        // Known answer: 120 shifted records (one region far from training) score above 900
        // ordinary ones spread over every training class, so plain score order has them on top.
        var model = Fit();
        var shifted = SyntheticEmbeddings.Around(SyntheticEmbeddings.Axis(Dimension, 6, 14), 120, 2.5, seed: 31);
        var (ordinary, _) = SyntheticEmbeddings.Clusters(3, 300, Dimension, 6, seed: 32);
        var ids = SyntheticEmbeddings.Ids(120, "shifted").Concat(SyntheticEmbeddings.Ids(900, "ordinary")).ToArray();
        var scored = RecommendationScorer.Score(model, new ProductionBatch(ids, [.. shifted, .. ordinary], Dimension));
        var plain = RecommendationRanker.Rank(scored, RecommendationStrategy.Balanced, 100, new RecommendationOptions { NearDuplicateThreshold = 0 }, Diversity.Off);
        var plainShare = plain.Count(r => r.Id.StartsWith("shifted", StringComparison.Ordinal)) / 100.0;

        var served = RecommendationRanker.Rank(scored, RecommendationStrategy.Balanced, 100, diversity: diversity);

        var servedShare = served.Count(r => r.Id.StartsWith("shifted", StringComparison.Ordinal)) / (double)served.Count;
        Assert.That(plainShare, Is.EqualTo(1.0), "the data should put the shifted records on top");
        Assert.That(servedShare, Is.GreaterThanOrEqualTo(0.9 * plainShare));
        Assert.That(served.Select(r => r.ScoreRank), Has.All.InRange(1, 100 + new RecommendationOptions().Spread(diversity).Window + served.Sum(r => r.DuplicateIds.Count)));
    }

    [Test]
    public void Rank_UnboundedSpreadOnTheSameData_DilutesTheShiftedShare()
    {
        // The control for the test above: spreading over the whole pool (what k-center greedy did)
        // fills the list with ordinary records from far down the score order.
        var model = Fit();
        var shifted = SyntheticEmbeddings.Around(SyntheticEmbeddings.Axis(Dimension, 6, 14), 120, 2.5, seed: 31);
        var (ordinary, _) = SyntheticEmbeddings.Clusters(3, 300, Dimension, 6, seed: 32);
        var ids = SyntheticEmbeddings.Ids(120, "shifted").Concat(SyntheticEmbeddings.Ids(900, "ordinary")).ToArray();
        var scored = RecommendationScorer.Score(model, new ProductionBatch(ids, [.. shifted, .. ordinary], Dimension));
        var unbounded = new RecommendationOptions { StrongDiversityWindow = 1000, StrongDiversityRelevance = 0.3 };

        var served = RecommendationRanker.Rank(scored, RecommendationStrategy.Balanced, 100, unbounded, Diversity.Strong);

        Assert.That(served.Count(r => r.Id.StartsWith("shifted", StringComparison.Ordinal)), Is.LessThan(90));
    }

    [Test]
    public void Rank_DefaultDiversity_SpreadsAClusterOfNearCopiesBehindAnotherRegionOfTheBlock()
    {
        // Nine close (not duplicate) outliers in one direction score highest; one in another direction scores
        // lower, tenth: the default list (blocks of 10) shows it second, plain order last. (At 26 the relative
        // Mahalanobis signal, which is the same for every point this far out along an axis the classes do not
        // use, lets the noise-free "other" score level with the cluster; 22 keeps it clearly below.)
        var model = Fit();
        var cluster = SyntheticEmbeddings.Around(SyntheticEmbeddings.Axis(Dimension, 6, 30), 9, 0.6, seed: 33);
        var other = SyntheticEmbeddings.Axis(Dimension, 7, 22);
        var ids = SyntheticEmbeddings.Ids(9, "cluster").Append("other").ToArray();
        var scored = RecommendationScorer.Score(model, new ProductionBatch(ids, [.. cluster, .. other], Dimension));
        var plain = RecommendationRanker.Rank(scored, RecommendationStrategy.OutOfDistribution, 10, new RecommendationOptions { NearDuplicateThreshold = 0 }, Diversity.Off);
        Assert.That(plain.Select(r => r.Id).ToList().IndexOf("other"), Is.GreaterThan(1), "the data should rank the other region low in score order");

        var served = RecommendationRanker.Rank(scored, RecommendationStrategy.OutOfDistribution, 10, new RecommendationOptions { NearDuplicateThreshold = 0 });

        Assert.That(served[1].Id, Is.EqualTo("other"));
    }

    [TestCase("Default")]
    [TestCase("Strong")]
    public void Rank_TightShiftedRegionInterleavedWithScatteredRecords_ServedTopHundredKeepsEveryShiftedRecord(string mode)
    {
        // Known answer: a shift's records look alike (one tight region) while the ordinary records that score as high
        // are scattered, and the two interleave in score order: every fourth record of 150 is shifted, so plain
        // order's top 100 holds 25. Spreading reorders but must not trade shifted records at the cut for scattered
        // ones from below it (a window sliding over the next 10 or 50 records did, in both modes).
        var records = Enumerable.Range(0, 150).Select(rank => InterleavedRecord(rank, shifted: rank % 4 == 3)).ToArray();
        var diversity = Enum.Parse<Diversity>(mode);

        var plain = RecommendationRanker.Rank(records, RecommendationStrategy.Balanced, 100, diversity: Diversity.Off);
        var served = RecommendationRanker.Rank(records, RecommendationStrategy.Balanced, 100, diversity: diversity);

        Assert.That(plain.Count(r => r.Id.StartsWith("shifted", StringComparison.Ordinal)), Is.EqualTo(25), "the data should put 25 shifted records in plain order's top 100");
        Assert.That(served.Select(r => r.Id), Is.EquivalentTo(plain.Select(r => r.Id)));
        Assert.That(served.Take(10).Select(r => r.Id), Is.Not.EqualTo(plain.Take(10).Select(r => r.Id)), "the list should still be spread out");
    }

    private static ScoredRecord InterleavedRecord(int rank, bool shifted)
    {
        // Score falls with rank (the Mahalanobis p-value rises); shifted records lie around one axis (cosine about
        // 0.94 to each other, too far apart to collapse as near-duplicates), the others point anywhere.
        const int Width = 32;
        var random = new Random(1000 + rank);
        var v = new float[Width];
        for (var j = 0; j < Width; j++)
        {
            v[j] = shifted ? (j == 0 ? 1 : (float)((random.NextDouble() - 0.5) * 0.15)) : (float)(random.NextDouble() - 0.5);
        }

        var unit = new float[Width];
        UnitVectors.Normalize(v, unit);
        var p = 1e-4 * (1 + (0.05 * rank));
        var measurement = new EmbeddingMeasurement(1, "0", new NeighborSignals(0.1, 0, 10, null, 0));
        var id = (shifted ? "shifted" : "ordinary") + rank.ToString("D3", System.Globalization.CultureInfo.InvariantCulture);
        return new ScoredRecord(id, "v1", unit, "0", measurement, null, [new(SignalKind.Mahalanobis, 10, 1, p)]);
    }

    private static RecommendationModel Fit()
    {
        var (embeddings, labels) = SyntheticEmbeddings.Clusters(3, 100, Dimension, 6, seed: 20);
        return RecommendationModel.Fit(new TrainingData(embeddings, Dimension, labels), "v1");
    }
}
