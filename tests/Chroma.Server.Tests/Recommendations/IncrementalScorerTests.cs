using Chroma.Server.Recommendations;
using Chroma.Server.Tests.Recommendations.Data;
using NUnit.Framework;

namespace Chroma.Server.Tests.Recommendations;

public class IncrementalScorerTests
{
    private const int Dimension = 4;

    [Test]
    public void Add_OverlappingBatches_ScoresOnlyNewRecords()
    {
        var scorer = new IncrementalScorer(Fit("v1"));
        var first = Batch(SyntheticEmbeddings.Ids(10));
        var second = Batch([.. SyntheticEmbeddings.Ids(10).Skip(5), .. SyntheticEmbeddings.Ids(3, "new")]);

        var scoredFirst = scorer.Add(first);
        var scoredSecond = scorer.Add(second);

        Assert.That(scoredFirst, Is.EqualTo(10));
        Assert.That(scoredSecond, Is.EqualTo(3));
        Assert.That(scorer.Count, Is.EqualTo(13));
        Assert.That(scorer.Snapshot().Select(r => r.TrainingVersion), Is.All.EqualTo("v1"));
    }

    [Test]
    public void UseModel_SameTrainingVersion_KeepsScores()
    {
        var scorer = new IncrementalScorer(Fit("v1"));
        scorer.Add(Batch(SyntheticEmbeddings.Ids(5)));

        var switched = scorer.UseModel(Fit("v1"));

        Assert.That(switched, Is.False);
        Assert.That(scorer.Count, Is.EqualTo(5));
    }

    [Test]
    public void UseModel_NewTrainingVersion_DropsScoresThenRescores()
    {
        var scorer = new IncrementalScorer(Fit("v1"));
        var batch = Batch(SyntheticEmbeddings.Ids(5));
        scorer.Add(batch);

        var switched = scorer.UseModel(Fit("v2"));
        var countAfterSwitch = scorer.Count;
        var rescored = scorer.Add(batch);

        Assert.That(switched, Is.True);
        Assert.That(countAfterSwitch, Is.Zero);
        Assert.That(rescored, Is.EqualTo(5));
        Assert.That(scorer.Snapshot().Select(r => r.TrainingVersion), Is.All.EqualTo("v2"));
    }

    private static ProductionBatch Batch(string[] ids) =>
        new(ids, SyntheticEmbeddings.Around(new float[Dimension], ids.Length, 1, seed: ids.Length), Dimension);

    private static RecommendationModel Fit(string version)
    {
        var (embeddings, labels) = SyntheticEmbeddings.Clusters(2, 30, Dimension, 5, seed: 30);
        return RecommendationModel.Fit(new TrainingData(embeddings, Dimension, labels), version);
    }
}
