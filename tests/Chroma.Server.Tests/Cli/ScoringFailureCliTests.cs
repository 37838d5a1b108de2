using System.Text.Json;
using Chroma.Protocol.V1;
using Chroma.Server.Cli;
using Chroma.Server.Tests.Recommendations.Scheduling;
using Chroma.Server.Tests.TestSupport;

namespace Chroma.Server.Tests.Cli;

/// <summary><c>sets</c> and <c>recommend</c> against a real server whose scoring pass of one set failed.</summary>
public sealed class ScoringFailureCliTests
{
    [Test, CancelAfter(90_000)]
    public async Task SetsAndRecommend_LastPassOfTheSetFailed_SayScoringFailedWithTheMessage()
    {
        var fault = new FailingNeighborSearch(ScoringFailureReportingTests.Broken.Dimension, ScoringFailureReportingTests.FailureMessage);
        await using var server = await ScoringFailureReportingTests.StartAsync(fault);
        var query = new Query.QueryClient(server.Invoker);
        await ScoringFailureReportingTests.SeedAsync(server, ScoringFailureReportingTests.Broken);
        await ScoringFailureReportingTests.WaitAsync(query, ScoringFailureReportingTests.BrokenId);
        var endpoint = server.Endpoint.ToString();

        var table = await CliRun.RunAsync("sets", "--endpoint", endpoint);
        var json = await CliRun.RunAsync("sets", "--endpoint", endpoint, "--json");
        var recommend = await CliRun.RunAsync("recommend", "--endpoint", endpoint, "--set", ScoringFailureReportingTests.BrokenId);
        var waited = await CliRun.RunAsync("recommend", "--endpoint", endpoint, "--set", ScoringFailureReportingTests.BrokenId, "--wait", "60", "--json");

        var failure = JsonDocument.Parse(json.Output).RootElement.GetProperty("sets")[0].GetProperty("scoringFailure");
        var waitedJson = JsonDocument.Parse(waited.Output).RootElement;
        Assert.Multiple(() =>
        {
            Assert.That(table.ExitCode, Is.EqualTo(CliExitCode.Success), table.Error);
            Assert.That(table.Console, Does.Contain($"Error: scoring of '{ScoringFailureReportingTests.BrokenId}' failed at ").And.Contain(ScoringFailureReportingTests.FailureMessage));
            Assert.That(failure.GetProperty("message").GetString(), Is.EqualTo(ScoringFailureReportingTests.FailureMessage));
            Assert.That(failure.GetProperty("consecutiveFailures").GetInt32(), Is.EqualTo(1));
            Assert.That(recommend.ExitCode, Is.EqualTo(CliExitCode.Success), recommend.Error);
            Assert.That(recommend.Console, Does.Contain("Error: scoring of").And.Contain(ScoringFailureReportingTests.FailureMessage));
            Assert.That(waited.ExitCode, Is.EqualTo(CliExitCode.NotAvailable));
            Assert.That(waited.Error, Does.Contain("failed").And.Contain(ScoringFailureReportingTests.FailureMessage).And.Not.Contain("ran out"));
            Assert.That(waitedJson.GetProperty("scoringFailure").GetProperty("message").GetString(), Is.EqualTo(ScoringFailureReportingTests.FailureMessage));
        });
    }
}
