using Chroma.Server.Recommendations;
using Chroma.Server.Tests.Recommendations.Data;
using NUnit.Framework;

namespace Chroma.Server.Tests.Recommendations;

/// <summary>
/// The labeling list on a constructed pool whose answer is known: three training classes; production holds three
/// in-distribution clusters of known size (60, 30 and 10 records around the class centres, each with one record
/// exactly at its centre), exact copies of one record, and far outliers.
/// </summary>
public class LabelingSelectorTests
{
    private const int Dimension = 8;
    private const int Copies = 5;
    private const int Outliers = 20;
    private static readonly int[] Sizes = [60, 30, 10];

    [Test]
    public void Select_WithoutTrainingCoverage_ClustersOfKnownSize_PicksACentralMemberOfEachClusterLargestFirst()
    {
        // Plain k-medians: every cluster here sits on its training class, so with the training rows as picks already
        // made the clusters are covered alike and the larger one may take a second pick first; without them the
        // answer is one pick per cluster, the largest first.
        var scored = Pool();
        var scores = scored.Select(r => SignalCombiner.Score(r, RecommendationStrategy.Labeling)).ToArray();

        var labeling = LabelingSelector.Select(scored, scores, 3, new RecommendationOptions(), coverTraining: false);

        Assert.That(labeling.Select(r => Cluster(r.Id)), Is.EqualTo(new[] { 0, 1, 2 }), "one pick per cluster, the largest first");
        foreach (var pick in labeling)
        {
            var cluster = Cluster(pick.Id);
            var centre = scored.First(r => r.Id == $"centre{cluster}").UnitEmbedding.ToArray();
            double Distance(ScoredRecord r) => System.Numerics.Tensors.TensorPrimitives.Distance(r.UnitEmbedding.Span, centre);
            var members = scored.Where(r => Cluster(r.Id) == cluster).Select(Distance).Order().ToArray();
            Assert.That(Distance(scored.First(r => r.Id == pick.Id)), Is.LessThanOrEqualTo(members[members.Length / 2]), $"{pick.Id} is in the central half of cluster {cluster}, not an edge case");
        }
    }

    [Test]
    public void Rank_Labeling_LargerBudget_SpreadsByClusterSizeWithoutOutliers()
    {
        var scored = Pool();

        var labeling = RecommendationRanker.Rank(scored, RecommendationStrategy.Labeling, 20);
        var review = RecommendationRanker.Rank(scored, RecommendationStrategy.OutOfDistribution, Outliers, diversity: Diversity.Off);

        int Count(IEnumerable<Recommendation> list, string prefix) => list.Count(r => r.Id.StartsWith(prefix, StringComparison.Ordinal));
        var perCluster = Enumerable.Range(0, Sizes.Length).Select(c => Count(labeling, $"cluster{c}-") + Count(labeling, $"centre{c}")).ToArray();
        Assert.Multiple(() =>
        {
            Assert.That(Count(labeling, "outlier"), Is.Zero, "out-of-distribution records are left for review");
            Assert.That(perCluster[0], Is.GreaterThan(perCluster[1]), "the largest cluster gets the most labels");
            Assert.That(perCluster[1], Is.GreaterThan(perCluster[2]), "the middle cluster gets more than the small one");
            Assert.That(perCluster[2], Is.GreaterThan(0), "the small cluster is represented");
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
    public void Rank_Labeling_CopiesBeyondTheIdCap_ListTheCapAndCountEveryRecord()
    {
        var scored = Pool();
        var options = new RecommendationOptions { MaxDuplicateIdsPerEntry = 2 };

        var all = RecommendationRanker.Rank(scored, RecommendationStrategy.Labeling, scored.Length, options);
        var copies = all.Single(r => r.Id.StartsWith("copy", StringComparison.Ordinal) || r.DuplicateIds.Any(d => d.StartsWith("copy", StringComparison.Ordinal)));

        Assert.Multiple(() =>
        {
            Assert.That(copies.DuplicateIds, Has.Count.EqualTo(2), "the ids listed stop at the cap");
            Assert.That(copies.DuplicateCount, Is.GreaterThanOrEqualTo(Copies - 1), "the count does not");
            Assert.That(all.Sum(r => 1 + r.DuplicateCount), Is.EqualTo(scored.Length), "entries and their counts count every record once");
            Assert.That(all.SelectMany(r => r.DuplicateIds.Prepend(r.Id)), Is.Unique);
        });
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
    public void Select_RegionTheTrainingDataDoesNotCover_GetsTheFirstPicks()
    {
        // Two in-distribution regions: 60 records next to training rows (nearest training row at 0.02, closer than
        // they are to each other) and 20 far from every training row (0.8). Plain k-medians would start with the
        // larger region; with the training rows as picks already made, the uncovered region is worth more.
        var covered = Region("covered", SyntheticEmbeddings.Axis(Dimension, 0, 1), 60, nearestTraining: 0.02, seed: 50);
        var uncovered = Region("uncovered", SyntheticEmbeddings.Axis(Dimension, 1, 1), 20, nearestTraining: 0.8, seed: 51);
        ScoredRecord[] records = [.. covered, .. uncovered];
        var scores = new double[records.Length];

        var withTraining = LabelingSelector.Select(records, scores, 3, new RecommendationOptions());
        var without = LabelingSelector.Select(records, scores, 1, new RecommendationOptions(), coverTraining: false);

        Assert.Multiple(() =>
        {
            Assert.That(withTraining.Select(r => r.Id), Has.All.StartsWith("uncovered"), "the first picks go where the training data leaves the traffic uncovered");
            Assert.That(without.Single().Id, Does.StartWith("covered"), "without the training rows the larger region comes first");
        });
    }

    [Test]
    public void Select_WholeStreamBeyondTheFixedAllowance_ShiftedTrafficIsPickedAndTheForeignMinorityFollows()
    {
        // The whole stream moved: 90 task records at a kNN surprise of 4 (beyond the fixed one in a thousand) and 10
        // foreign records at 9. Measured against the stream (median 4), the allowance is 3 + 4 - log10 2, about 6.7: the
        // task records are candidates and the foreign ones are not. With the fixed allowance no record would be a
        // candidate and the list would be the score order (all 0 here, ties by id: the foreign records first).
        var shifted = Region("shifted", SyntheticEmbeddings.Axis(Dimension, 0, 1), 90, nearestTraining: 0.6, seed: 90, knnPValue: 1e-4);
        var foreign = Region("foreign", SyntheticEmbeddings.Axis(Dimension, 1, 1), 10, nearestTraining: 1.2, seed: 91, knnPValue: 1e-9);
        ScoredRecord[] records = [.. foreign, .. shifted];
        var scores = new double[records.Length];

        var all = LabelingSelector.Select(records, scores, records.Length, new RecommendationOptions());

        Assert.Multiple(() =>
        {
            Assert.That(all[0].Id, Does.StartWith("shifted"), "the shifted task traffic is picked first");
            Assert.That(all.SkipLast(foreign.Length).SelectMany(r => r.DuplicateIds.Prepend(r.Id)), Has.All.StartWith("shifted"), "no foreign record before the task records");
            Assert.That(all.TakeLast(foreign.Length).Select(r => r.Id), Has.All.StartWith("foreign"), "the foreign records follow every candidate");
        });
    }

    [Test]
    public void Rank_Labeling_TrainingRowsAsMeasured_ProductionCopyOfATrainingRowIsCovered()
    {
        var scored = Pool();

        // centre0 lies at a class centre inside the training cloud; the outliers are far from every training row.
        var centre = scored.First(r => r.Id == "centre0").Measurement.NearestTrainingDistance;
        var outliers = scored.Where(r => r.Id.StartsWith("outlier", StringComparison.Ordinal)).Select(r => r.Measurement.NearestTrainingDistance!.Value).ToArray();

        Assert.Multiple(() =>
        {
            Assert.That(centre, Is.Not.Null.And.LessThan(outliers.Min()));
            Assert.That(outliers, Has.All.InRange(0.0, 2.0));
        });
    }

    [Test]
    public void IdHash_SequentialIds_LowestHashesAreAnEvenSampleOfEveryRange()
    {
        // The capped samples (candidates, clients) take the lowest hashes; with sequential ids each range of 2,000 of
        // 20,000 should hold about a tenth of a 2,048 sample (204.8, standard deviation about 13.6).
        var ids = Enumerable.Range(0, 20_000).Select(i => $"rec-{i:000000}").ToArray();

        var sample = ids.OrderBy(LabelingSelector.IdHash).Take(LabelingSelector.MaxClients).ToArray();
        var perRange = sample.GroupBy(id => int.Parse(id[4..], System.Globalization.CultureInfo.InvariantCulture) / 2_000).ToDictionary(g => g.Key, g => g.Count());

        Assert.That(Enumerable.Range(0, 10).Select(r => perRange.GetValueOrDefault(r)), Has.All.InRange(150, 260));
    }

    private static int Cluster(string id) =>
        id.StartsWith("centre", StringComparison.Ordinal) ? id[6] - '0' : id.StartsWith("cluster", StringComparison.Ordinal) ? id[7] - '0' : id.StartsWith("copy", StringComparison.Ordinal) ? 0 : -1;

    private static ScoredRecord[] Region(string prefix, float[] centre, int count, double nearestTraining, int seed, double knnPValue = 0.5)
    {
        var rows = SyntheticEmbeddings.Around(centre, count, 0.05, seed);
        var ids = SyntheticEmbeddings.Ids(count, prefix);
        SignalScore[] ordinary = [new(SignalKind.Mahalanobis, 1, 0.5, 0.5), new(SignalKind.KnnDistance, 0.1, 1 - knnPValue, knnPValue)];
        return [.. Enumerable.Range(0, count).Select(i =>
        {
            var unit = new float[Dimension];
            UnitVectors.Normalize(rows.AsSpan(i * Dimension, Dimension), unit);
            var measurement = new EmbeddingMeasurement(1, "0", new NeighborSignals(0.1, 0, 10, null, 0)) { NearestTrainingDistance = nearestTraining };
            return new ScoredRecord(ids[i], "v1", unit, "0", measurement, null, ordinary);
        })];
    }

    private static ScoredRecord[] Pool()
    {
        var (embeddings, labels) = SyntheticEmbeddings.Clusters(3, 200, Dimension, 6, seed: 40);
        var trainingProbabilities = labels.Select(l => (float[]?)Confident(int.Parse(l, System.Globalization.CultureInfo.InvariantCulture))).ToArray();
        var model = RecommendationModel.Fit(new TrainingData(embeddings, Dimension, labels) { Probabilities = trainingProbabilities }, "v1");

        var rows = new List<float>();
        var ids = new List<string>();
        var predicted = new List<string?>();
        for (var c = 0; c < Sizes.Length; c++)
        {
            var centre = SyntheticEmbeddings.Axis(Dimension, c, 6);
            rows.AddRange(centre);
            ids.Add($"centre{c}");
            rows.AddRange(SyntheticEmbeddings.Around(centre, Sizes[c] - 1, 0.5, seed: 41 + c));
            ids.AddRange(SyntheticEmbeddings.Ids(Sizes[c] - 1, $"cluster{c}-"));
            predicted.AddRange(Enumerable.Repeat((string?)c.ToString(System.Globalization.CultureInfo.InvariantCulture), Sizes[c]));
        }

        var copied = rows.Skip(Dimension).Take(Dimension).ToArray();
        for (var i = 0; i < Copies; i++)
        {
            rows.AddRange(copied);
            ids.Add($"copy{i}");
            predicted.Add("0");
        }

        rows.AddRange(SyntheticEmbeddings.Around(SyntheticEmbeddings.Axis(Dimension, 7, 40), Outliers, 3, seed: 45));
        ids.AddRange(SyntheticEmbeddings.Ids(Outliers, "outlier"));
        predicted.AddRange(Enumerable.Repeat((string?)"2", Outliers));
        float[]?[] probabilities = [.. predicted.Select(p => Confident(int.Parse(p!, System.Globalization.CultureInfo.InvariantCulture)))];
        return RecommendationScorer.Score(model, new ProductionBatch([.. ids], [.. rows], Dimension, [.. predicted], probabilities));
    }

    private static float[] Confident(int c)
    {
        var p = new float[] { 0.01f, 0.01f, 0.01f };
        p[c] = 0.98f;
        return p;
    }
}
