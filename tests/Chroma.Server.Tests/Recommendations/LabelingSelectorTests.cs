using Chroma.Server.Recommendations;
using Chroma.Server.Tests.Recommendations.Data;
using NUnit.Framework;

namespace Chroma.Server.Tests.Recommendations;

/// <summary>
/// The labeling list on a constructed pool whose answer is known: three training classes; production holds confident
/// ordinary records, a large redundant cluster of the most uncertain records (between classes 0 and 1, with exact
/// copies in it), two small ambiguous groups (between 1 and 2, between 0 and 2) and far outliers the model is just as
/// unsure of.
/// </summary>
public class LabelingSelectorTests
{
    private const int Dimension = 8;
    private const int Redundant = 40;
    private const int Copies = 5;
    private const int SmallGroup = 5;
    private const int Outliers = 20;

    [Test]
    public void Rank_Labeling_RedundantClusterAndOutliers_TopCoversEveryAmbiguousRegionWithoutOutliers()
    {
        var scored = Pool();

        var labeling = RecommendationRanker.Rank(scored, RecommendationStrategy.Labeling, 10);
        var scoreOrder = RecommendationRanker.Rank(scored, RecommendationStrategy.Labeling, 10, diversity: Diversity.Off);
        var review = RecommendationRanker.Rank(scored, RecommendationStrategy.OutOfDistribution, Outliers, diversity: Diversity.Off);

        int Count(IEnumerable<Recommendation> list, string prefix) => list.Count(r => r.Id.StartsWith(prefix, StringComparison.Ordinal));
        Assert.Multiple(() =>
        {
            Assert.That(Count(labeling, "outlier"), Is.Zero, "out-of-distribution records are left for review");
            Assert.That(Count(labeling, "redundant") + Count(labeling, "copy"), Is.InRange(1, 3), "one region does not fill the batch");
            Assert.That(Count(labeling, "between12"), Is.GreaterThan(0), "the 1-2 boundary is in the batch");
            Assert.That(Count(labeling, "between02"), Is.GreaterThan(0), "the 0-2 boundary is in the batch");
            Assert.That(Count(scoreOrder, "redundant") + Count(scoreOrder, "copy"), Is.GreaterThanOrEqualTo(8), "by score alone the redundant cluster fills the top");
            Assert.That(Count(review, "outlier"), Is.EqualTo(Outliers), "the review strategy still surfaces every outlier");
        });
    }

    [Test]
    public void Rank_Labeling_EveryRecord_OutliersComeLastAndNothingIsRepeated()
    {
        var scored = Pool();

        var all = RecommendationRanker.Rank(scored, RecommendationStrategy.Labeling, scored.Length);
        var listed = all.SelectMany(r => r.DuplicateIds.Prepend(r.Id)).ToList();

        Assert.Multiple(() =>
        {
            Assert.That(listed, Is.Unique);
            Assert.That(listed, Has.Count.EqualTo(scored.Length), "every record is listed once, as an entry or a duplicate");
            Assert.That(all.TakeLast(Outliers).Select(r => r.Id), Has.All.StartsWith("outlier"));
        });
    }

    [Test]
    public void Rank_Labeling_ExactCopies_CollapseIntoOneEntry()
    {
        var scored = Pool();

        var all = RecommendationRanker.Rank(scored, RecommendationStrategy.Labeling, scored.Length);
        var copies = all.Where(r => r.Id.StartsWith("copy", StringComparison.Ordinal) || r.DuplicateIds.Any(d => d.StartsWith("copy", StringComparison.Ordinal))).ToList();

        Assert.That(copies, Has.Count.EqualTo(1));
        Assert.That(copies[0].DuplicateIds.Count(d => d.StartsWith("copy", StringComparison.Ordinal)), Is.EqualTo(copies[0].Id.StartsWith("copy", StringComparison.Ordinal) ? Copies - 1 : Copies));
    }

    [Test]
    public void Rank_Labeling_LongerList_StartsWithTheShorterOne()
    {
        var scored = Pool();

        var five = RecommendationRanker.Rank(scored, RecommendationStrategy.Labeling, 5).Select(r => r.Id);
        var twenty = RecommendationRanker.Rank(scored, RecommendationStrategy.Labeling, 20).Select(r => r.Id);

        Assert.That(twenty.Take(5), Is.EqualTo(five));
    }

    [Test]
    public void GradientFactor_Probabilities_IsProbabilitiesMinusOneHotOfTheTopClass()
    {
        var record = Pool().First(r => r.Id.StartsWith("between12", StringComparison.Ordinal));

        var q = LabelingSelector.GradientFactor(record)!;

        Assert.That(q, Is.EqualTo(new[] { 0.05, 0.55 - 1, 0.40 }).Within(1e-6));
    }

    private static ScoredRecord[] Pool()
    {
        var (embeddings, labels) = SyntheticEmbeddings.Clusters(3, 200, Dimension, 6, seed: 40);
        var trainingProbabilities = labels.Select(l => (float[]?)Confident(int.Parse(l, System.Globalization.CultureInfo.InvariantCulture))).ToArray();
        var model = RecommendationModel.Fit(new TrainingData(embeddings, Dimension, labels) { Probabilities = trainingProbabilities }, "v1");

        float[] between01 = [3, 3, 0, 0, 0, 0, 0, 0];
        float[] between12 = [0, 3, 3, 0, 0, 0, 0, 0];
        float[] between02 = [3, 0, 3, 0, 0, 0, 0, 0];
        var ordinary = SyntheticEmbeddings.Around(SyntheticEmbeddings.Axis(Dimension, 2, 6), 60, 1, seed: 41);
        var redundant = SyntheticEmbeddings.Around(between01, Redundant, 0.3, seed: 42);
        var copy = Enumerable.Range(0, Copies).SelectMany(_ => redundant.Take(Dimension)).ToArray();
        var near12 = SyntheticEmbeddings.Around(between12, SmallGroup, 0.5, seed: 43);
        var near02 = SyntheticEmbeddings.Around(between02, SmallGroup, 0.5, seed: 44);
        var outliers = SyntheticEmbeddings.Around(SyntheticEmbeddings.Axis(Dimension, 7, 40), Outliers, 3, seed: 45);
        var ids = (string[])
        [
            .. SyntheticEmbeddings.Ids(60, "ordinary"), .. SyntheticEmbeddings.Ids(Redundant, "redundant"), .. SyntheticEmbeddings.Ids(Copies, "copy"),
            .. SyntheticEmbeddings.Ids(SmallGroup, "between12"), .. SyntheticEmbeddings.Ids(SmallGroup, "between02"), .. SyntheticEmbeddings.Ids(Outliers, "outlier"),
        ];
        float[]?[] probabilities =
        [
            .. Enumerable.Range(0, 60).Select(_ => Confident(2)),
            .. Enumerable.Range(0, Redundant + Copies).Select(_ => new[] { 0.34f, 0.33f, 0.33f }),
            .. Enumerable.Range(0, SmallGroup).Select(_ => new[] { 0.05f, 0.55f, 0.40f }),
            .. Enumerable.Range(0, SmallGroup).Select(_ => new[] { 0.55f, 0.05f, 0.40f }),
            .. Enumerable.Range(0, Outliers).Select(_ => new[] { 0.34f, 0.33f, 0.33f }),
        ];
        string?[] predicted = [.. probabilities.Select(p => Array.IndexOf(p!, p!.Max()).ToString(System.Globalization.CultureInfo.InvariantCulture))];
        return RecommendationScorer.Score(model, new ProductionBatch(ids, [.. ordinary, .. redundant, .. copy, .. near12, .. near02, .. outliers], Dimension, predicted, probabilities));
    }

    private static float[] Confident(int c)
    {
        var p = new float[] { 0.01f, 0.01f, 0.01f };
        p[c] = 0.98f;
        return p;
    }
}
