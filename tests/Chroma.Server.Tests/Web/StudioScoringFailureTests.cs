using System.Net;
using System.Text.Json;
using Chroma.Protocol.V1;
using Chroma.Server.Tests.Recommendations.Scheduling;
using Chroma.Server.Tests.Reliability;
using Chroma.Server.Tests.TestSupport;
using Microsoft.Extensions.Logging;

namespace Chroma.Server.Tests.Web;

/// <summary>
/// Studio's set cards and queue say when a set's last scoring pass failed, and why, as GetRecommendations does: a real
/// server whose fit fails for one set (<see cref="FailingNeighborSearch"/>), Studio on its own port.
/// </summary>
[TestFixture]
public sealed class StudioScoringFailureTests
{
    [Test]
    [CancelAfter(90_000)]
    public async Task SetsAndQueue_LastPassFailed_CarryTheFailureOnThatSetOnly(CancellationToken cancellationToken)
    {
        // Arrange: one set whose pass fails, one that scores.
        var fault = new FailingNeighborSearch(ScoringFailureReportingTests.Broken.Dimension, ScoringFailureReportingTests.FailureMessage);
        await using var server = await LoggedServer.StartAsync(
            o =>
            {
                o.Web.Port = 0;
                o.Scoring.Debounce = TimeSpan.FromMinutes(5);
                o.Scoring.MaxDelay = TimeSpan.FromMinutes(10);
            },
            LogLevel.Warning,
            fault.ReplaceIn);
        var healthy = Records.Set(dimension: 3, model: "healthy");
        var query = new Query.QueryClient(server.Invoker);
        await ScoringFailureReportingTests.SeedAsync(server, ScoringFailureReportingTests.Broken);
        await ScoringFailureReportingTests.SeedAsync(server, healthy);
        await ScoringFailureReportingTests.WaitAsync(query, ScoringFailureReportingTests.BrokenId);
        await ScoringFailureReportingTests.WaitAsync(query, Records.SetId(healthy));
        using var http = new HttpClient { BaseAddress = server.WebEndpoint };

        // Act
        var sets = (await GetAsync(http, "/api/sets", cancellationToken)).EnumerateArray().ToDictionary(s => s.GetProperty("setId").GetString()!, s => s.GetProperty("scoring"));
        var brokenQueue = await GetAsync(http, $"/api/queue?set={Uri.EscapeDataString(ScoringFailureReportingTests.BrokenId)}", cancellationToken);
        var healthyQueue = await GetAsync(http, $"/api/queue?set={Uri.EscapeDataString(Records.SetId(healthy))}", cancellationToken);

        // Assert
        var failure = sets[ScoringFailureReportingTests.BrokenId].GetProperty("failure");
        Assert.Multiple(() =>
        {
            Assert.That(failure.GetProperty("message").GetString(), Is.EqualTo(ScoringFailureReportingTests.FailureMessage));
            Assert.That(failure.GetProperty("consecutiveFailures").GetInt32(), Is.EqualTo(1));
            Assert.That(failure.GetProperty("failedUnixMs").GetInt64(), Is.GreaterThan(0));
            Assert.That(sets[Records.SetId(healthy)].TryGetProperty("failure", out _), Is.False, "the healthy set's card has none");
            Assert.That(brokenQueue.GetProperty("failure").GetProperty("message").GetString(), Is.EqualTo(ScoringFailureReportingTests.FailureMessage));
            Assert.That(brokenQueue.GetProperty("scored").GetInt64(), Is.Zero);
            Assert.That(healthyQueue.TryGetProperty("failure", out _), Is.False);
            Assert.That(healthyQueue.GetProperty("items").GetArrayLength(), Is.GreaterThan(0));
        });
    }

    private static async Task<JsonElement> GetAsync(HttpClient http, string path, CancellationToken cancellationToken)
    {
        using var response = await http.GetAsync(path, cancellationToken);
        var body = await response.Content.ReadAsStringAsync(cancellationToken);
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK), body);
        return JsonDocument.Parse(body).RootElement;
    }
}
