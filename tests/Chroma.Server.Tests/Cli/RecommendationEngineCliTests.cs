using System.Text.Json;
using Chroma.Server.Cli;
using Chroma.Server.Tests.TestSupport;

namespace Chroma.Server.Tests.Cli;

/// <summary>The CLI against the server's own recommendation engine and drift history (no proxy).</summary>
[TestFixture]
public sealed class RecommendationEngineCliTests
{
    [Test]
    [CancelAfter(60_000)]
    public async Task RecommendAndReport_RealEngine_RankedWithReasonsAndServerDriftInTheReport(CancellationToken cancellationToken)
    {
        // Arrange: the test set, then wait (bounded) until the scoring pass has ranked all production records and measured
        // drift (the pass publishes the ranking chunk by chunk, before it measures drift).
        await using var server = await RunningServer.StartAsync();
        using var folder = new TempDirectory();
        await CliTestData.LogAsync(server, CliTestData.Build());
        var endpoint = server.Server.Endpoint.ToString();
        JsonElement ranked;
        while (true)
        {
            var poll = await CliRun.RunAsync("recommend", "--endpoint", endpoint, "--set", CliTestData.SetId, "--top", "5", "--json");
            ranked = JsonDocument.Parse(poll.Output).RootElement;
            var sets = await CliRun.RunAsync("sets", "--endpoint", endpoint, "--json");
            var measured = sets.ExitCode == CliExitCode.Success
                && JsonDocument.Parse(sets.Output).RootElement.GetProperty("sets")[0].TryGetProperty("drift", out var drift) && drift.ValueKind == JsonValueKind.Object;
            if (poll.ExitCode == CliExitCode.Success && ranked.GetProperty("scoredRecords").GetInt64() == CliTestData.ProductionCount && measured)
            {
                break;
            }

            await Task.Delay(100, cancellationToken);
        }

        var path = Path.Combine(folder.Path, "report.html");

        // Act
        var report = await CliRun.RunAsync("report", "--endpoint", endpoint, "--set", CliTestData.SetId, "--out", path, "--top", "5", "--drift", "server", "--json");
        var stats = await CliRun.RunAsync("stats", "--endpoint", endpoint, "--json");

        // Assert
        var recommendations = ranked.GetProperty("recommendations").EnumerateArray().ToList();
        Assert.That(recommendations, Has.Count.EqualTo(5));
        Assert.That(recommendations.Select(r => r.GetProperty("reasons").GetArrayLength()), Is.All.GreaterThan(0));
        Assert.That(recommendations.Select(r => r.GetProperty("record").GetProperty("dataset").GetString()), Is.All.EqualTo("production"));
        Assert.That(report.ExitCode, Is.EqualTo(CliExitCode.Success), report.Error);
        var summary = JsonDocument.Parse(report.Output).RootElement;
        Assert.That(summary.GetProperty("recommended").GetInt32(), Is.EqualTo(5));
        Assert.That(summary.GetProperty("driftWindows").GetInt32(), Is.GreaterThan(0), "the server's drift history is drawn");
        Assert.That(await File.ReadAllTextAsync(path, cancellationToken), Does.Contain("Measured by the server"));
        var perSet = JsonDocument.Parse(stats.Output).RootElement.GetProperty("perSet")[0];
        Assert.That(perSet.GetProperty("scoredRecords").GetInt64(), Is.EqualTo(CliTestData.ProductionCount));
        Assert.That(perSet.GetProperty("drift").GetProperty("mmd2").GetDouble(), Is.GreaterThan(0));
    }
}
