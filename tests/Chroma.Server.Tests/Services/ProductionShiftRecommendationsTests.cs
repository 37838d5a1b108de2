using System.Globalization;
using Chroma.Protocol.V1;
using Chroma.Server.Tests.Recommendations.Data;
using Chroma.Server.Tests.TestSupport;
using NUnit.Framework;

namespace Chroma.Server.Tests.Services;

/// <summary>The production-shift signal end to end: logged over gRPC, scored by the worker, read with GetRecommendations.</summary>
public class ProductionShiftRecommendationsTests
{
    private const int Dimension = 16;
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);
    private static readonly EmbeddingSetDescriptor Set = Records.Set(Dimension);
    private static readonly string SetId = Records.SetId(Set);

    // Two classes (centres 6 e0 and 6 e1, unit noise); the shifted records are normal ones moved 3 standard deviations
    // along (e2 + ... + e15) / sqrt(14), in the training region: their squared distance to the class mean grows from
    // about 16 to about 25 (sd 6-8), which the distances barely notice, while a classifier learns the direction.
    // `spread` scales each row's noise around its class centre: below 1 for training rows a model has memorised.
    private static Record[] Rows(int perClass, int seed, string dataset, double shift = 0, double spread = 1)
    {
        var (embeddings, labels) = SyntheticEmbeddings.Clusters(2, perClass, Dimension, separation: 6, seed);
        var step = (float)(shift / Math.Sqrt(Dimension - 2));
        return [.. labels.Select((label, i) =>
        {
            var row = embeddings.AsSpan(i * Dimension, Dimension).ToArray();
            var centre = label == "0" ? 0 : 1;
            for (var j = 0; j < Dimension; j++)
            {
                var mean = j == centre ? 6f : 0f;
                row[j] = (float)(((row[j] - mean) * spread) + mean + (j >= 2 ? step : 0));
            }

            // Ids from the seed and position, not random ones: the classifier's folds follow a hash of the id, so random
            // ids would give each run other folds and another ranking.
            var record = Records.Make(row, dataset, dataset == "training" ? label : null);
            record.Id = string.Create(CultureInfo.InvariantCulture, $"{seed:x8}-0000-4000-8000-{i:x12}");
            return record;
        })];
    }

    [Test]
    public async Task GetRecommendations_ShiftedGroupInTheTrainingRegion_ProductionShiftRanksItFirst()
    {
        // 400 production rows: below the default minimum (1,000), so the test lowers it.
        await using var server = await RunningServer.StartAsync(o => o.Recommendations.ProductionShiftMinimumRows = 100);
        var shifted = Rows(50, seed: 3, "production", shift: 3);
        var acks = await server.LogAsync(
            Records.Batch(Set, Rows(200, seed: 1, "training")),
            Records.Batch(Set, [.. Rows(150, seed: 2, "production"), .. shifted]));
        Assert.That(acks.Select(a => a.Error), Has.All.Null);

        var response = await server.Query.GetRecommendationsAsync(
            new GetRecommendationsRequest
            {
                SetId = SetId, PageSize = 400, AllScores = true, Strategy = RecommendationStrategy.Balanced, Diversity = Diversity.Off, WaitForAcknowledged = true,
            },
            deadline: DateTime.UtcNow + Timeout);

        var shiftedIds = shifted.Select(r => r.Id).ToHashSet(StringComparer.OrdinalIgnoreCase);
        var top = response.Recommendations.Take(100).Select(r => shiftedIds.Contains(r.Record.Record.Id)).ToArray();
        int ShiftedInTop100(string signal) => response.Recommendations
            .OrderBy(r => r.Signals.Single(s => s.Signal == signal).PValue).Take(100).Count(r => shiftedIds.Contains(r.Record.Record.Id));
        var first = response.Recommendations.First(r => shiftedIds.Contains(r.Record.Record.Id));
        TestContext.Out.WriteLine($"shifted in the top 100: {top.Count(s => s)}; in the top 50: {top.Take(50).Count(s => s)}; by mahalanobis {ShiftedInTop100("mahalanobis")}, knn {ShiftedInTop100("knn_distance")}, production_shift {ShiftedInTop100("production_shift")}");
        Assert.Multiple(() =>
        {
            Assert.That(response.CoversRequest, Is.True);
            Assert.That(response.ScoredRecords, Is.EqualTo(400));
            Assert.That(top.Count(s => s), Is.GreaterThanOrEqualTo(60), "100 shifted records among 400: most of the top 100");
            Assert.That(top.Count(s => s), Is.GreaterThan(Math.Max(ShiftedInTop100("mahalanobis"), ShiftedInTop100("knn_distance"))), "above either distance alone");
            // 80 with logistic regression (scheme m4); the network (m5) is a little less sample-efficient on a purely
            // linear shift of 300 production rows: 79 here.
            Assert.That(ShiftedInTop100("production_shift"), Is.GreaterThanOrEqualTo(75));
            Assert.That(first.Signals.Select(s => s.Signal), Has.Member("production_shift"));
            Assert.That(first.Reasons, Has.Some.StartsWith("unlike the training data"));
        });
    }

    [Test]
    public async Task GetRecommendations_ProductionShiftJoins_EveryScoreFollowsFromTheSignalsOnTheWire()
    {
        // A shift of the whole stream (every production row moved 1 standard deviation) plus a group moved 3 more: the
        // bulk lies beyond training, so the lead's p-value (against the bulk) differs from the signal's (against training).
        await using var server = await RunningServer.StartAsync(o => o.Recommendations.ProductionShiftMinimumRows = 100);
        var acks = await server.LogAsync(
            Records.Batch(Set, Rows(200, seed: 1, "training")),
            Records.Batch(Set, [.. Rows(150, seed: 2, "production", shift: 1), .. Rows(50, seed: 3, "production", shift: 4)]));
        Assert.That(acks.Select(a => a.Error), Has.All.Null);
        var kinds = Enum.GetValues<Server.Recommendations.SignalKind>().ToDictionary(Server.Recommendations.SignalKindNames.ToWireName);

        foreach (var strategy in new[] { RecommendationStrategy.Balanced, RecommendationStrategy.OutOfDistribution })
        {
            var response = await server.Query.GetRecommendationsAsync(
                new GetRecommendationsRequest { SetId = SetId, PageSize = 400, AllScores = true, Strategy = strategy, Diversity = Diversity.Off, WaitForAcknowledged = true },
                deadline: DateTime.UtcNow + Timeout);

            var shift = response.Recommendations.Select(r => r.Signals.Single(s => s.Signal == "production_shift")).ToArray();
            var engineStrategy = strategy == RecommendationStrategy.Balanced ? Server.Recommendations.RecommendationStrategy.Balanced : Server.Recommendations.RecommendationStrategy.OutOfDistribution;
            double FromTheWire(Chroma.Protocol.V1.Recommendation r) => Server.Recommendations.SignalCombiner.Score(
                [.. r.Signals.Select(s => new Server.Recommendations.SignalScore(kinds[s.Signal], s.Value, s.Percentile, s.PValue))],
                engineStrategy,
                -Math.Log10(r.Signals.Single(s => s.Signal == "production_shift").LeadPValue));
            Assert.Multiple(() =>
            {
                Assert.That(response.Recommendations, Has.Count.EqualTo(400));
                Assert.That(shift.Select(s => s.LeadPValue), Has.All.GreaterThan(0).And.All.LessThanOrEqualTo(1), strategy.ToString());
                Assert.That(shift.Count(s => s.LeadPValue > s.PValue), Is.GreaterThan(300), "the stream's bulk lies beyond training: less surprising against it");
                Assert.That(response.Recommendations.SelectMany(r => r.Signals).Where(s => s.Signal != "production_shift").Select(s => s.LeadPValue), Has.All.Zero);
                Assert.That(response.Recommendations.Select(r => r.Score), Is.EqualTo(response.Recommendations.Select(FromTheWire)).Within(1e-9), "the proto's formula, from the wire");
            });
        }
    }

    [Test]
    public async Task GetRecommendations_ReferenceDatasetLogged_ProductionIsComparedWithItAndItIsNotRanked()
    {
        // Training rows with 0.7 of the noise (what a model does to the rows it was fitted on), production and the
        // reference set with all of it; 100 of 400 production rows shifted by 2 standard deviations.
        var training = Rows(200, seed: 1, "training", spread: 0.7);
        Record[] production = [.. Rows(150, seed: 2, "production"), .. Rows(50, seed: 3, "production", shift: 2)];
        var reference = Rows(150, seed: 4, "reference");
        var shiftedIds = production.Skip(300).Select(r => r.Id).ToHashSet(StringComparer.OrdinalIgnoreCase);

        async Task<GetRecommendationsResponse> RankAsync(bool withReference)
        {
            await using var server = await RunningServer.StartAsync(o => o.Recommendations.ProductionShiftMinimumRows = 100);
            var batches = new List<LogBatch> { Records.Batch(Set, training) };
            if (withReference)
            {
                batches.Add(Records.Batch(Set, reference));
            }

            batches.Add(Records.Batch(Set, production));
            var acks = await server.LogAsync([.. batches]);
            Assert.That(acks.Select(a => a.Error), Has.All.Null);
            return await server.Query.GetRecommendationsAsync(
                new GetRecommendationsRequest
                {
                    SetId = SetId, PageSize = 1_000, AllScores = true, Strategy = RecommendationStrategy.Balanced, Diversity = Diversity.Off, WaitForAcknowledged = true,
                },
                deadline: DateTime.UtcNow + Timeout);
        }

        int ShiftedInTop100(GetRecommendationsResponse response) => response.Recommendations
            .OrderBy(r => r.Signals.SingleOrDefault(s => s.Signal == "production_shift")?.PValue ?? 1).Take(100).Count(r => shiftedIds.Contains(r.Record.Record.Id));
        var without = await RankAsync(withReference: false);
        var with = await RankAsync(withReference: true);
        TestContext.Out.WriteLine($"shifted in the production_shift top 100: against training {ShiftedInTop100(without)}, against the reference set {ShiftedInTop100(with)}");

        Assert.Multiple(() =>
        {
            Assert.That(with.CoversRequest, Is.True);
            Assert.That(with.Recommendations.Select(r => r.Record.Record.Dataset), Is.All.EqualTo("production"), "the reference rows are not production traffic");
            Assert.That(with.Recommendations, Has.Count.EqualTo(400));
            Assert.That(ShiftedInTop100(with), Is.GreaterThan(ShiftedInTop100(without) + 10), "68 against 50 when written");
        });
    }
}
