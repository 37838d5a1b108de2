using System.Collections.Concurrent;
using System.Text.Json;
using Chroma.Protocol.V1;
using Chroma.Server.Cli;
using Chroma.Server.Tests.TestSupport;
using Grpc.Core;

namespace Chroma.Server.Tests.Cli;

[TestFixture]
public sealed class RecommendCommandTests
{
    private RunningServer _server = null!;
    private List<Record> _production = null!;

    [OneTimeSetUp]
    [CancelAfter(60_000)]
    public async Task StartServer()
    {
        _server = await RunningServer.StartAsync();
        var records = CliTestData.Build();
        _production = records.Where(r => r.Dataset == "production").ToList();
        await CliTestData.LogAsync(_server, records);
    }

    [OneTimeTearDown]
    public async Task StopServer() => await _server.DisposeAsync();

    [Test]
    [CancelAfter(30_000)]
    public async Task Recommend_ServerRanks_JsonHasTopRecordsWithReasonsAndAsksForTop()
    {
        var requests = new ConcurrentQueue<GetRecommendationsRequest>();
        await using var proxy = await RankingProxyAsync(requests);

        var run = await CliRun.RunAsync("recommend", "--endpoint", proxy.Endpoint.ToString(), "--set", CliTestData.SetId, "--top", "3", "--strategy", "ood", "--json");

        Assert.That(run.ExitCode, Is.EqualTo(CliExitCode.Success), run.Error);
        var asked = requests.Last();
        using var json = JsonDocument.Parse(run.Output);
        var items = json.RootElement.GetProperty("recommendations").EnumerateArray().ToList();
        Assert.Multiple(() =>
        {
            Assert.That(asked.PageSize, Is.EqualTo(3));
            Assert.That(asked.Strategy, Is.EqualTo(RecommendationStrategy.OutOfDistribution));
            Assert.That(json.RootElement.GetProperty("scoredRecords").GetInt64(), Is.EqualTo(CliTestData.ProductionCount));
            Assert.That(items, Has.Count.EqualTo(3));
            Assert.That(items[0].GetProperty("record").GetProperty("id").GetString(), Is.EqualTo(_production[^1].Id));
            Assert.That(items[0].GetProperty("reasons")[0].GetString(), Does.Contain("far from training"));
            Assert.That(items[0].GetProperty("signals")[0].GetProperty("signal").GetString(), Is.EqualTo("mahalanobis"));
        });
    }

    [Test]
    [CancelAfter(30_000)]
    public async Task Recommend_StrategyLabeling_AsksForTheLabelingStrategy()
    {
        var requests = new ConcurrentQueue<GetRecommendationsRequest>();
        await using var proxy = await RankingProxyAsync(requests);

        var run = await CliRun.RunAsync("recommend", "--endpoint", proxy.Endpoint.ToString(), "--set", CliTestData.SetId, "--top", "2", "--strategy", "labeling", "--json");

        Assert.That(run.ExitCode, Is.EqualTo(CliExitCode.Success), run.Error);
        Assert.That(requests.Last().Strategy, Is.EqualTo(RecommendationStrategy.Labeling));
    }

    [Test]
    [CancelAfter(30_000)]
    public async Task Recommend_CommonOptionsBeforeTheCommandAndTheProtosStrategyName_Accepted()
    {
        // Probe M, M6: "chroma-server --endpoint URL recommend" was "unknown command '--endpoint'", and only "ood" named the
        // strategy the API calls OutOfDistribution (out_of_distribution on the wire).
        var requests = new ConcurrentQueue<GetRecommendationsRequest>();
        await using var proxy = await RankingProxyAsync(requests);

        var run = await CliRun.RunAsync("--endpoint", proxy.Endpoint.ToString(), "--json", "recommend", "--set", CliTestData.SetId, "--top", "2", "--strategy", "out_of_distribution");

        Assert.Multiple(() =>
        {
            Assert.That(run.ExitCode, Is.EqualTo(CliExitCode.Success), run.Error);
            Assert.That(requests.LastOrDefault()?.Strategy, Is.EqualTo(RecommendationStrategy.OutOfDistribution));
            Assert.That(JsonDocument.Parse(run.Output).RootElement.GetProperty("recommendations").GetArrayLength(), Is.EqualTo(2), "--json before the command counts too");
        });
    }

    [Test]
    [CancelAfter(30_000)]
    public async Task Recommend_IncludeReviewed_AskedForAndTheTitleSaysWhetherReviewedRecordsAreLeftOut()
    {
        var asked = new ConcurrentQueue<GetRecommendationsRequest>();
        await using var proxy = await RankingProxyAsync(asked);

        var plain = await CliRun.RunAsync("recommend", "--endpoint", proxy.Endpoint.ToString(), "--set", CliTestData.SetId, "--top", "2");
        var all = await CliRun.RunAsync("recommend", "--endpoint", proxy.Endpoint.ToString(), "--set", CliTestData.SetId, "--top", "2", "--include-reviewed");

        Assert.Multiple(() =>
        {
            Assert.That(asked.Select(a => a.IncludeReviewed), Is.EqualTo(new[] { false, true }));
            Assert.That(plain.Console, Does.Contain("reviewed and dismissed records left out"));
            Assert.That(all.Console, Does.Contain("reviewed records included"));
        });
    }

    [Test]
    [CancelAfter(30_000)]
    public async Task Recommend_ServerRanks_TableShowsReasons()
    {
        await using var proxy = await RecommendingProxy.StartAsync(_server.Query, request => Ranked(request.PageSize));

        var run = await CliRun.RunAsync("recommend", "--endpoint", proxy.Endpoint.ToString(), "--set", CliTestData.SetId, "--top", "2");

        Assert.That(run.ExitCode, Is.EqualTo(CliExitCode.Success), run.Error);
        Assert.That(run.Console, Does.Contain(_production[^1].Id).And.Contain("far from training"));
    }

    [Test]
    [CancelAfter(30_000)]
    public async Task ExportLabels_ServerWithoutTheLabelingService_SaysTheServerIsLikelyOlder()
    {
        // The proxy offers only the Query service, as a server from before the labeling loop did (probe T).
        await using var proxy = await RecommendingProxy.StartAsync(_server.Query, request => Ranked(request.PageSize));

        var run = await CliRun.RunAsync("export-labels", "--endpoint", proxy.Endpoint.ToString(), "--set", CliTestData.SetId, "--format", "jsonl");

        Assert.That(run.ExitCode, Is.EqualTo(CliExitCode.ServerError), run.Error);
        Assert.That(run.Error, Does.Contain($"the server at {proxy.Endpoint} does not offer this call (Unimplemented").And.Contain("likely older than this chroma-server"));
    }

    [TestCase(StatusCode.Unimplemented)]
    [TestCase(StatusCode.FailedPrecondition)]
    [CancelAfter(30_000)]
    public async Task Recommend_ServerOffersNone_ClearMessageAndNotAvailableExit(StatusCode status)
    {
        await using var proxy = await RecommendingProxy.StartAsync(_server.Query, _ => throw new RpcException(new Status(status, "no engine here")));

        var human = await CliRun.RunAsync("recommend", "--endpoint", proxy.Endpoint.ToString(), "--set", CliTestData.SetId);
        var json = await CliRun.RunAsync("recommend", "--endpoint", proxy.Endpoint.ToString(), "--set", CliTestData.SetId, "--json");

        Assert.Multiple(() =>
        {
            Assert.That(human.ExitCode, Is.EqualTo(CliExitCode.NotAvailable));
            Assert.That(human.Console, Does.Contain("Recommendations not available").And.Contain($"{status}: no engine here"));
            Assert.That(json.ExitCode, Is.EqualTo(CliExitCode.NotAvailable));
            Assert.That(JsonDocument.Parse(json.Output).RootElement.GetProperty("available").GetBoolean(), Is.False);
        });
    }

    [Test]
    [CancelAfter(30_000)]
    public async Task Recommend_ThisServerVersion_AnswersAndCliExitsCleanly()
    {
        // Against the real server: either a ranked list or "not available", never a crash.
        var run = await CliRun.RunAsync("recommend", "--endpoint", _server.Server.Endpoint.ToString(), "--set", CliTestData.SetId, "--json");

        Assert.That(run.ExitCode, Is.AnyOf(CliExitCode.Success, CliExitCode.NotAvailable), run.Error);
        Assert.That(JsonDocument.Parse(run.Output).RootElement.TryGetProperty("available", out _), Is.True);
    }

    /// <summary>The latest production records first (they drift furthest), each with a reason.</summary>
    [Test]
    [CancelAfter(30_000)]
    public async Task Recommend_ScoringStillRunning_SaysSoAndSuggestsWait()
    {
        await using var proxy = await RecommendingProxy.StartAsync(_server.Query, _ => new GetRecommendationsResponse { ScoredRecords = 0, PendingRecords = 1_500 });

        var run = await CliRun.RunAsync("recommend", "--endpoint", proxy.Endpoint.ToString(), "--set", CliTestData.SetId);

        Assert.That(run.ExitCode, Is.EqualTo(CliExitCode.Success), run.Error);
        Assert.That(run.Console, Does.Contain("Scoring is still running: 1,500 records are not ranked yet").And.Contain("--wait SECONDS"));
    }

    [Test]
    [CancelAfter(30_000)]
    public async Task Recommend_Wait_AsksTheServerToWaitForTheAcknowledgedRecords()
    {
        var requests = new ConcurrentQueue<GetRecommendationsRequest>();
        await using var proxy = await RankingProxyAsync(requests);

        var run = await CliRun.RunAsync("recommend", "--endpoint", proxy.Endpoint.ToString(), "--set", CliTestData.SetId, "--wait", "5", "--json");

        Assert.That(run.ExitCode, Is.EqualTo(CliExitCode.Success), run.Error);
        Assert.That(requests.Last().WaitForAcknowledged, Is.True);
        Assert.That(requests.Last().WaitTimeoutMs, Is.EqualTo(5_000));
    }

    [Test]
    [CancelAfter(30_000)]
    public async Task Recommend_WaitRanOut_LastRankingShownSaidOnStandardErrorExitCode4()
    {
        await using var proxy = await RecommendingProxy.StartAsync(_server.Query, request =>
        {
            var response = Ranked(request.PageSize);
            response.CoversRequest = false;
            response.PendingRecords = 300;
            return response;
        });

        var run = await CliRun.RunAsync("recommend", "--endpoint", proxy.Endpoint.ToString(), "--set", CliTestData.SetId, "--wait", "2", "--json");

        Assert.That(run.ExitCode, Is.EqualTo(CliExitCode.NotAvailable));
        Assert.That(run.Error, Does.Contain("the wait of 2 s ran out before the ranking covered every record the server had acknowledged (300 not ranked yet)"));
        var json = JsonDocument.Parse(run.Output).RootElement;
        Assert.That(json.GetProperty("coversRequest").GetBoolean(), Is.False);
        Assert.That(json.GetProperty("recommendations").GetArrayLength(), Is.GreaterThan(0), "the last ranking is still shown");
    }

    // A proxy that ranks every request with Ranked and records what each asked for.
    private Task<RecommendingProxy> RankingProxyAsync(ConcurrentQueue<GetRecommendationsRequest> requests) =>
        RecommendingProxy.StartAsync(_server.Query, request =>
        {
            requests.Enqueue(request);
            return Ranked(request.PageSize);
        });

    private GetRecommendationsResponse Ranked(int top)
    {
        var response = new GetRecommendationsResponse { ScoredRecords = CliTestData.ProductionCount, ComputedUnixMs = 1_700_200_000_000, CoversRequest = true };
        foreach (var record in Enumerable.Reverse(_production).Take(top))
        {
            var recommendation = new Recommendation
            {
                Record = new StoredRecord { Record = record, SetId = CliTestData.SetId },
                Score = 0.9,
                Reasons = { "far from training (Mahalanobis, 99th percentile)" },
                Signals = { new SignalScore { Signal = "mahalanobis", Value = 12.5, Percentile = 0.99 } },
            };
            response.Recommendations.Add(recommendation);
        }

        return response;
    }
}
