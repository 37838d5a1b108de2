using System.Globalization;
using Chroma;
using Grpc.Core;

namespace Chroma.IntegrationTests.Recommendations;

/// <summary>
/// The recommendation engine through the real client and server: logged records are scored in the
/// background, ranked with reasons, paged, filtered, and drift shows up in the set statistics.
/// </summary>
[TestFixture]
public sealed class RecommendationApiTests
{
    private const int Dimension = 16;
    private const int Classes = 3;
    private const int TrainingPerClass = 60;
    private const int InDistributionCount = 60;
    private const int OutlierCount = 5;
    private const int AmbiguousCount = 6;
    private const int DriftProductionCount = 150;
    private static readonly TimeSpan ScoringTimeout = TimeSpan.FromSeconds(60);

    private readonly HashSet<string> _outlierIds = [];
    private readonly HashSet<string> _ambiguousIds = [];
    private ServerFixture _fixture = null!;
    private ChromaClient _client = null!;
    private EmbeddingSet _set = null!;
    private EmbeddingSet _unshifted = null!;
    private EmbeddingSet _shifted = null!;
    private EmbeddingSet _untrained = null!;

    private static int ProductionCount => InDistributionCount + OutlierCount + AmbiguousCount;

    [OneTimeSetUp]
    public async Task StartAsync()
    {
        _fixture = await ServerFixture.StartAsync();
        _client = new ChromaClient(new ChromaClientOptions { Endpoint = _fixture.Endpoint, FlushInterval = TimeSpan.FromMilliseconds(10) });
        _set = _client.GetEmbeddingSet(new EmbeddingSetDescriptor("it-recs", "1", "penultimate", Dimension));
        _unshifted = _client.GetEmbeddingSet(new EmbeddingSetDescriptor("it-drift", "same", "penultimate", Dimension));
        _shifted = _client.GetEmbeddingSet(new EmbeddingSetDescriptor("it-drift", "shifted", "penultimate", Dimension));
        _untrained = _client.GetEmbeddingSet(new EmbeddingSetDescriptor("it-recs", "untrained", "penultimate", Dimension));
        var random = new Random(7);

        foreach (var set in new[] { _set, _unshifted, _shifted })
        {
            LogTraining(set, random);
        }

        LogMainProduction(random);
        for (var i = 0; i < DriftProductionCount; i++)
        {
            var c = i % Classes;
            _unshifted.LogProduction(Around(ClassCentre(c), random), Label(c));
            _shifted.LogProduction(Around(ClassCentre(c), random, shift: 3), Label(c));
        }

        _untrained.LogProduction(Around(ClassCentre(0), random), "0");
        await _client.FlushAsync().WaitAsync(ScoringTimeout);
        _outlierIds.UnionWith(await IdsOfKindAsync("outlier"));
        _ambiguousIds.UnionWith(await IdsOfKindAsync("ambiguous"));
        await _client.WaitForRecommendationsAsync(_set.Descriptor.Id, ProductionCount, ScoringTimeout);
        await _client.WaitForRecommendationsAsync(_unshifted.Descriptor.Id, DriftProductionCount, ScoringTimeout);
        await _client.WaitForRecommendationsAsync(_shifted.Descriptor.Id, DriftProductionCount, ScoringTimeout);

        // Drift is measured after a pass has published its scores: wait until it covers every production record.
        await WaitForDriftAsync(_unshifted.Descriptor.Id).WaitAsync(ScoringTimeout);
        await WaitForDriftAsync(_shifted.Descriptor.Id).WaitAsync(ScoringTimeout);
    }

    [OneTimeTearDown]
    public async Task StopAsync()
    {
        await _client.DisposeAsync();
        await _fixture.DisposeAsync();
    }

    [Test, CancelAfter(30_000)]
    public async Task GetRecommendations_OutOfDistributionStrategy_RanksTheOutliersFirstWithReasons(CancellationToken cancellationToken)
    {
        var page = await _client.GetRecommendationsAsync(_set.Descriptor.Id,
            new RecommendationQuery { Strategy = RecommendationStrategy.OutOfDistribution, PageSize = OutlierCount }, cancellationToken);

        Assert.Multiple(() =>
        {
            Assert.That(page.Items.Select(i => i.Record.Id), Is.EquivalentTo(_outlierIds));
            Assert.That(page.Items.All(i => i.Reasons.Any(r => r.StartsWith("far from", StringComparison.Ordinal))), Is.True,
                string.Join(" | ", page.Items.SelectMany(i => i.Reasons)));
            Assert.That(page.Items[0].Signal("mahalanobis")!.Percentile, Is.GreaterThan(0.99));
            Assert.That(page.ScoredRecords, Is.EqualTo(ProductionCount));
            Assert.That(page.PendingRecords, Is.Zero);
            Assert.That(page.ComputedAt, Is.Not.Null);
        });
    }

    [Test, CancelAfter(30_000)]
    public async Task GetRecommendations_UncertaintyStrategy_BringsTheUndecidedPredictionsUpWithTheirReasons(CancellationToken cancellationToken)
    {
        // Scores alone (all_scores): the ranked list also spreads its picks over the embedding space.
        var top = OutlierCount + AmbiguousCount;
        var uncertainty = await AllScoresAsync(RecommendationStrategy.Uncertainty, cancellationToken);
        var outOfDistribution = await AllScoresAsync(RecommendationStrategy.OutOfDistribution, cancellationToken);

        var ambiguousUnderUncertainty = uncertainty.Take(top).Where(i => _ambiguousIds.Contains(i.Record.Id)).ToList();
        Assert.Multiple(() =>
        {
            Assert.That(ambiguousUnderUncertainty, Has.Count.EqualTo(AmbiguousCount), "every undecided prediction makes the top list");
            Assert.That(outOfDistribution.Take(top).Count(i => _ambiguousIds.Contains(i.Record.Id)), Is.LessThan(AmbiguousCount),
                "their embeddings look typical, so favouring distance ranks them lower");
            Assert.That(ambiguousUnderUncertainty.All(i => i.Reasons.Any(r => r.StartsWith("low confidence", StringComparison.Ordinal))), Is.True,
                string.Join(" | ", ambiguousUnderUncertainty.SelectMany(i => i.Reasons)));
        });
    }

    [Test, CancelAfter(30_000)]
    public async Task GetRecommendations_PagingWithTokens_ReturnsTheSameListAsOneLargePage(CancellationToken cancellationToken)
    {
        var paged = new List<string>();
        var query = new RecommendationQuery { PageSize = 7 };
        for (var i = 0; i < 4; i++)
        {
            var page = await _client.GetRecommendationsAsync(_set.Descriptor.Id, query, cancellationToken);
            paged.AddRange(page.Items.Select(r => r.Record.Id));
            query.PageToken = page.NextPageToken;
        }

        var whole = await _client.GetRecommendationsAsync(_set.Descriptor.Id, new RecommendationQuery { PageSize = 28 }, cancellationToken);

        Assert.Multiple(() =>
        {
            Assert.That(paged, Is.EqualTo(whole.Items.Select(r => r.Record.Id)));
            Assert.That(paged, Is.Unique);
            Assert.That(query.PageToken, Is.Not.Null, "more than 28 entries remain to page through");
        });
    }

    [Test, CancelAfter(30_000)]
    public async Task GetRecommendations_MetadataFilter_ReturnsOnlyMatchingRecords(CancellationToken cancellationToken)
    {
        var page = await _client.GetRecommendationsAsync(_set.Descriptor.Id,
            new RecommendationQuery { Metadata = new Dictionary<string, string> { ["camera"] = "night" }, PageSize = 50 }, cancellationToken);

        Assert.That(page.Items.Select(i => i.Record.Id), Is.EquivalentTo(_outlierIds));
    }

    [Test, CancelAfter(30_000)]
    public async Task GetAllScores_EveryProductionRecord_ComesInScoreOrderWithItsSignals(CancellationToken cancellationToken)
    {
        var all = await AllScoresAsync(RecommendationStrategy.Balanced, cancellationToken);

        Assert.Multiple(() =>
        {
            Assert.That(all, Has.Count.EqualTo(ProductionCount));
            Assert.That(all.Select(i => i.Record.Id), Is.Unique);
            Assert.That(all.Select(i => i.Score), Is.Ordered.Descending);
            // production_shift joins only when its classifier tells this production from the training data.
            Assert.That(all.Select(i => i.Signals.Select(s => s.Name).Where(n => n != "production_shift").ToArray()),
                Is.All.EquivalentTo(new[] { "mahalanobis", "knn_distance", "boundary", "entropy", "margin", "least_confidence", "relative_mahalanobis", "feature_norm" }));
            Assert.That(all.Select(i => i.Signals.Count), Is.All.InRange(8, 9));
            Assert.That(all.All(i => i.Reasons.Count > 0), Is.True);
            // The boundary's weight factor f (0..1) on the wire; the probability signals carry 2 - f, the others 1.
            Assert.That(all.Select(i => i.Signal("boundary")!.WeightFactor), Is.All.InRange(0.0, 1.0));
            Assert.That(all.All(i => i.Signals.All(s => Math.Abs(s.WeightFactor - ExpectedFactor(s.Name, i.Signal("boundary")!.WeightFactor)) < 1e-12)), Is.True);
        });
    }

    private static double ExpectedFactor(string signal, double boundary) => signal switch
    {
        "boundary" => boundary,
        "entropy" or "margin" or "least_confidence" => 2 - boundary,
        _ => 1,
    };

    [Test, CancelAfter(30_000)]
    public void GetRecommendations_SetWithoutTrainingData_FailsWithFailedPreconditionNamingTheSet(CancellationToken cancellationToken)
    {
        var error = Assert.ThrowsAsync<ChromaException>(() => _client.GetRecommendationsAsync(_untrained.Descriptor.Id, cancellationToken: cancellationToken));

        Assert.Multiple(() =>
        {
            Assert.That(error!.StatusCode, Is.EqualTo(StatusCode.FailedPrecondition));
            Assert.That(error.Message, Does.Contain(_untrained.Descriptor.Id));
        });
    }

    [Test, CancelAfter(30_000)]
    public void GetRecommendations_UnknownSet_FailsWithNotFound(CancellationToken cancellationToken)
    {
        var error = Assert.ThrowsAsync<ChromaException>(() => _client.GetRecommendationsAsync("no/such/set", cancellationToken: cancellationToken));

        Assert.That(error!.StatusCode, Is.EqualTo(StatusCode.NotFound));
    }

    [Test, CancelAfter(30_000)]
    public async Task ListSets_ShiftedAndUnshiftedStreams_ReportHighDriftOnlyForTheShiftedOne(CancellationToken cancellationToken)
    {
        var sets = await _client.ListSetsAsync(cancellationToken);

        var unshifted = sets.Single(s => s.SetId == _unshifted.Descriptor.Id).Drift;
        var shifted = sets.Single(s => s.SetId == _shifted.Descriptor.Id).Drift;
        Assert.Multiple(() =>
        {
            Assert.That(unshifted, Is.Not.Null);
            Assert.That(shifted, Is.Not.Null);
            Assert.That(shifted!.PValue, Is.LessThan(0.01));
            Assert.That(unshifted!.PValue, Is.GreaterThan(0.05));
            Assert.That(shifted.Mmd2, Is.GreaterThan(10 * Math.Max(unshifted.Mmd2, 1e-4)));
            Assert.That(shifted.ProductionSample, Is.EqualTo(DriftProductionCount));
            Assert.That(sets.Single(s => s.SetId == _shifted.Descriptor.Id).DriftHistory, Has.Count.GreaterThanOrEqualTo(1));
        });
    }

    private async Task WaitForDriftAsync(string setId)
    {
        while ((await _client.ListSetsAsync()).Single(s => s.SetId == setId).Drift?.ProductionSample != DriftProductionCount)
        {
            await Task.Delay(50);
        }
    }

    private async Task<List<ChromaRecommendation>> AllScoresAsync(RecommendationStrategy strategy, CancellationToken cancellationToken)
    {
        var all = new List<ChromaRecommendation>();
        await foreach (var item in _client.GetAllScoresAsync(_set.Descriptor.Id, strategy, cancellationToken: cancellationToken))
        {
            all.Add(item);
        }

        return all;
    }

    private static void LogTraining(EmbeddingSet set, Random random)
    {
        for (var c = 0; c < Classes; c++)
        {
            for (var i = 0; i < TrainingPerClass; i++)
            {
                set.LogTraining(Around(ClassCentre(c), random), Label(c));
            }
        }
    }

    private void LogMainProduction(Random random)
    {
        var typical = new Dictionary<string, string> { ["camera"] = "day", ["kind"] = "typical" };
        var ambiguous = new Dictionary<string, string> { ["camera"] = "day", ["kind"] = "ambiguous" };
        for (var i = 0; i < InDistributionCount; i++)
        {
            var c = i % Classes;
            var probabilities = new float[Classes];
            Array.Fill(probabilities, 0.01f);
            probabilities[c] = 0.98f;
            _set.LogProduction(Around(ClassCentre(c), random), Label(c), probabilities, metadata: typical);
        }

        // Far from every class, each in its own direction so they are not near-duplicates; the
        // model is (wrongly) confident about them.
        for (var i = 0; i < OutlierCount; i++)
        {
            var centre = new float[Dimension];
            centre[Classes + 2 + i] = 40;
            _set.LogProduction(Around(centre, random), "0", [0.98f, 0.01f, 0.01f], metadata: new Dictionary<string, string> { ["camera"] = "night", ["kind"] = "outlier" });
        }

        // Typical inputs the model cannot decide about.
        for (var i = 0; i < AmbiguousCount; i++)
        {
            _set.LogProduction(Around(ClassCentre(0), random), "0", [0.34f, 0.33f, 0.33f], metadata: ambiguous);
        }
    }

    // Ids are assigned by the client: read them back by kind from the stored records.
    private async Task<IEnumerable<string>> IdsOfKindAsync(string kind)
    {
        var page = await _client.GetRecordsAsync(_set.Descriptor.Id,
            new RecordQuery { Metadata = new Dictionary<string, string> { ["kind"] = kind }, PageSize = 100 });
        return page.Records.Select(r => r.Id);
    }

    private static float[] ClassCentre(int c)
    {
        var centre = new float[Dimension];
        centre[c] = 8;
        return centre;
    }

    private static float[] Around(float[] centre, Random random, double scale = 1, float shift = 0)
    {
        var point = new float[centre.Length];
        for (var j = 0; j < point.Length; j++)
        {
            var u1 = 1.0 - random.NextDouble();
            var u2 = random.NextDouble();
            point[j] = centre[j] + shift + (float)(scale * Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2.0 * Math.PI * u2));
        }

        return point;
    }

    private static string Label(int c) => c.ToString(CultureInfo.InvariantCulture);
}
