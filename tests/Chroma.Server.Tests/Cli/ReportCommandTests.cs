using System.Text.Json;
using System.Text.RegularExpressions;
using Chroma.Protocol.V1;
using Chroma.Server.Cli;
using Chroma.Server.Tests.TestSupport;

namespace Chroma.Server.Tests.Cli;

[TestFixture]
public sealed partial class ReportCommandTests
{
    private const int Top = 5;

    private RunningServer _server = null!;
    private TempDirectory _folder = null!;
    private List<Record> _production = null!;

    [OneTimeSetUp]
    [CancelAfter(60_000)]
    public async Task StartServer()
    {
        _server = await RunningServer.StartAsync();
        _folder = new TempDirectory();
        var records = CliTestData.Build();
        _production = records.Where(r => r.Dataset == "production").ToList();
        await CliTestData.LogAsync(_server, records);
    }

    [OneTimeTearDown]
    public async Task StopServer()
    {
        await _server.DisposeAsync();
        _folder.Dispose();
    }

    /// <summary>Writes a report of the test set through a proxy that recommends the <see cref="Top"/> latest production records.</summary>
    internal static async Task<(CliRun Run, string Html)> WriteReportAsync(RunningServer server, IReadOnlyList<Record> production, string path)
    {
        await using var proxy = await RecommendingProxy.StartAsync(server.Query, request =>
        {
            var response = new GetRecommendationsResponse { ScoredRecords = production.Count };
            foreach (var record in production.Reverse().Take(request.PageSize))
            {
                response.Recommendations.Add(new Recommendation
                {
                    Record = new StoredRecord { Record = record, SetId = CliTestData.SetId },
                    Score = 0.9,
                    Reasons = { "far from training <99th percentile>" },
                });
            }

            return response;
        });
        var run = await CliRun.RunAsync("report", "--endpoint", proxy.Endpoint.ToString(), "--set", CliTestData.SetId, "--out", path, "--top", Top.ToString(System.Globalization.CultureInfo.InvariantCulture), "--json");
        return (run, File.Exists(path) ? await File.ReadAllTextAsync(path) : string.Empty);
    }

    [Test]
    [CancelAfter(60_000)]
    public async Task Report_WithRecommendations_EveryPointDrawnAndRecommendedOnesCarryReasons()
    {
        var path = Path.Combine(_folder.Path, "report.html");

        var (run, html) = await WriteReportAsync(_server, _production, path);

        Assert.That(run.ExitCode, Is.EqualTo(CliExitCode.Success), run.Error);
        var summary = JsonDocument.Parse(run.Output).RootElement;
        var points = Points(html);
        Assert.Multiple(() =>
        {
            Assert.That(summary.GetProperty("points").GetInt32(), Is.EqualTo(CliTestData.TrainingCount + CliTestData.ProductionCount));
            Assert.That(summary.GetProperty("datasets").GetProperty("training").GetInt32(), Is.EqualTo(CliTestData.TrainingCount));
            Assert.That(summary.GetProperty("recommended").GetInt32(), Is.EqualTo(Top));
            Assert.That(points.GetProperty("x").GetArrayLength(), Is.EqualTo(CliTestData.TrainingCount + CliTestData.ProductionCount));
            Assert.That(points.GetProperty("recommended").GetArrayLength(), Is.EqualTo(Top));
            Assert.That(points.GetProperty("dataset").EnumerateArray().Count(d => d.GetString() == "training"), Is.EqualTo(CliTestData.TrainingCount));
            // The reason is on the hover card of the newest production record.
            Assert.That(points.GetProperty("tip").EnumerateArray().Select(t => t.GetString()), Has.Some.StartsWith($"#1 recommended: far from training <99th percentile>. production {_production[^1].Id}"));
            // Drawn by Studio's own renderer, embedded verbatim.
            Assert.That(html, Does.Contain(Chroma.Server.Web.Internal.StudioAssets.ReadText("map.js")));
            // The table names the input a person would open first.
            Assert.That(html, Does.Contain($"<tr><td>1</td><td>{_production[^1].InputUri}</td>"));
            // Self-contained: nothing is loaded from elsewhere.
            Assert.That(html, Does.Not.Contain("<script src").And.Not.Contain("<link").And.Not.Contain("https://"));
        });
    }

    [Test]
    [CancelAfter(60_000)]
    public async Task Report_ProductionMovesAwayOverTime_DriftRisesAcrossWindows()
    {
        var path = Path.Combine(_folder.Path, "drift.html");

        var run = await CliRun.RunAsync("report", "--endpoint", _server.Server.Endpoint.ToString(), "--set", CliTestData.SetId, "--out", path, "--windows", "4", "--drift", "local");

        Assert.That(run.ExitCode, Is.EqualTo(CliExitCode.Success), run.Error);
        var html = await File.ReadAllTextAsync(path);
        var mmd = DriftPattern().Matches(html).Select(m => double.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture)).ToList();
        Assert.That(mmd, Has.Count.EqualTo(4));
        Assert.That(mmd[^1], Is.GreaterThan(mmd[0]), "the last window drifted further than the first");

        // The chart's axes carry values: MMD² 0, half and the largest window's; the first window's start and the last one's end.
        var axisY = AxisYPattern().Matches(html).Select(m => double.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture)).ToList();
        Assert.That(axisY, Has.Count.EqualTo(3));
        Assert.That(axisY[0], Is.Zero);
        Assert.That(axisY[2], Is.EqualTo(mmd.Max()));
        Assert.That(AxisXPattern().Matches(html).Select(m => m.Groups[1].Value).ToList(), Has.Count.EqualTo(2).And.All.Match(@"^\d{4}-\d\d-\d\d \d\d:\d\d UTC$"));
    }

    [Test]
    [CancelAfter(60_000)]
    public async Task Report_ServerWithoutRecommendations_ProjectionOnlyWithNote()
    {
        await using var proxy = await RecommendingProxy.StartAsync(_server.Query, _ => throw new Grpc.Core.RpcException(new Grpc.Core.Status(Grpc.Core.StatusCode.Unimplemented, "not here")));
        var path = Path.Combine(_folder.Path, "plain.html");

        var run = await CliRun.RunAsync("report", "--endpoint", proxy.Endpoint.ToString(), "--set", CliTestData.SetId, "--out", path);

        Assert.That(run.ExitCode, Is.EqualTo(CliExitCode.Success), run.Error);
        var html = await File.ReadAllTextAsync(path);
        Assert.That(Points(html).GetProperty("x").GetArrayLength(), Is.EqualTo(CliTestData.TrainingCount + CliTestData.ProductionCount));
        Assert.That(Points(html).GetProperty("recommended").GetArrayLength(), Is.Zero);
        // Drawn interleaved, not one dataset over the other: the first quarter drawn holds both.
        var drawn = Points(html).GetProperty("dataset").EnumerateArray().Select(d => d.GetString()).ToList();
        Assert.That(drawn.Take(drawn.Count / 4).Distinct(), Is.EquivalentTo(new[] { "training", "production" }));
        Assert.That(html, Does.Contain("offers no recommendations for this set (Unimplemented: not here)"));
        Assert.That(run.Console, Does.Contain("Wrote"));
    }

    /// <summary>The scatter's points as the report embeds them for Studio's renderer.</summary>
    internal static JsonElement Points(string html)
    {
        var match = PointsPattern().Match(html);
        Assert.That(match.Success, Is.True, "the report embeds its points");
        return JsonDocument.Parse(match.Groups[1].Value).RootElement;
    }

    [GeneratedRegex("<script type=\"application/json\" id=\"points\">(.*?)</script>", RegexOptions.Singleline)]
    private static partial Regex PointsPattern();

    [GeneratedRegex("<title>[^<]*MMD(?:²|&#178;) ([-0-9.Ee+]+), p = ")]
    private static partial Regex DriftPattern();

    [GeneratedRegex("<text class=\"axis-y\"[^>]*>([-0-9.Ee+]+)</text>")]
    private static partial Regex AxisYPattern();

    [GeneratedRegex("<text class=\"axis-x\"[^>]*>([^<]+)</text>")]
    private static partial Regex AxisXPattern();
}
