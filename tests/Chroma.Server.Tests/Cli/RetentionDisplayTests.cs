using System.Text.Json;
using Chroma.Server.Cli;
using Chroma.Server.Retention;
using Chroma.Server.Tests.TestSupport;

namespace Chroma.Server.Tests.Cli;

/// <summary><c>sets</c> and <c>stats</c> show the retention rules covering a set and their last run, from a real server.</summary>
[TestFixture]
public sealed class RetentionDisplayTests
{
    [Test]
    [CancelAfter(180_000)]
    public async Task Sets_RetentionRuleRan_JsonAndTableShowRuleAndLastRun(CancellationToken cancellationToken)
    {
        // Arrange: every record of CliTestData is dated 2023, far older than the rule's 30 days.
        // Runs every second, so a run follows the ingest however slow the machine is.
        await using var server = await RunningServer.StartAsync(o =>
        {
            o.Retention.Rules.Add(new RetentionRule { Set = RetentionRule.EverySet, Dataset = "production", MaxAge = TimeSpan.FromDays(30) });
            o.Retention.Interval = TimeSpan.FromSeconds(1);
        });
        await CliTestData.LogAsync(server, CliTestData.Build());
        var endpoint = server.Server.Endpoint.ToString();

        // Act: the first run starts RetentionWorker.FirstRunDelay after the start, then one every second.
        JsonElement retention;
        while (true)
        {
            var run = await CliRun.RunAsync("sets", "--endpoint", endpoint, "--json");
            Assert.That(run.ExitCode, Is.EqualTo(CliExitCode.Success), run.Error);
            using var json = JsonDocument.Parse(run.Output);
            retention = json.RootElement.GetProperty("sets").EnumerateArray().Single().GetProperty("retention").EnumerateArray().Single().Clone();
            if (retention.GetProperty("deletedTotal").GetInt64() > 0)
            {
                break;
            }

            await Task.Delay(200, cancellationToken);
        }

        var table = await CliRun.RunAsync("sets", "--endpoint", endpoint);
        var stats = await CliRun.RunAsync("stats", "--endpoint", endpoint);

        // Assert
        Assert.Multiple(() =>
        {
            Assert.That(retention.GetProperty("dataset").GetString(), Is.EqualTo("production"));
            Assert.That(retention.GetProperty("maxAgeMs").GetInt64(), Is.EqualTo((long)TimeSpan.FromDays(30).TotalMilliseconds));
            Assert.That(retention.GetProperty("deletedTotal").GetInt64(), Is.EqualTo(CliTestData.ProductionCount));
            Assert.That(table.Console, Does.Contain("30d"), "the rule in the sets table");
            Assert.That(stats.Console, Does.Contain("30d"), "the rule in the stats table");
        });
    }
}
