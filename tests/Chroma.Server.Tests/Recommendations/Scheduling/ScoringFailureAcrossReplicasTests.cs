using System.Diagnostics;
using Chroma.Protocol.V1;
using Chroma.Server.Tests.Reliability;
using Chroma.Server.Tests.Storage;
using Chroma.Server.Tests.TestSupport;
using Microsoft.Extensions.Logging;

namespace Chroma.Server.Tests.Recommendations.Scheduling;

/// <summary>
/// Two replicas on one PostgreSQL: the set's pass fails on the replica that holds its scoring lease (A), and the other
/// replica (B) reports the failure too, from the lease row: a request waiting on B answers at once with it, and ListSets
/// on B names it. Before, only A knew; a client behind a load balancer asking B waited out its whole timeout and was
/// told nothing. A pass that succeeds clears it everywhere.
/// </summary>
[TestFixture]
[Category("postgres")]
public sealed class ScoringFailureAcrossReplicasTests : PostgresDatabaseTest
{
    [Test, CancelAfter(180_000)]
    public async Task GetRecommendations_PassFailsOnTheHolder_OtherReplicaAnswersAtOnceWithTheFailureThenClearsIt(CancellationToken cancellationToken)
    {
        // Arrange: A scores the set and its fits fail; B would fit it (real search) but never holds the lease.
        var fault = new FailingNeighborSearch(ScoringFailureReportingTests.Broken.Dimension, ScoringFailureReportingTests.FailureMessage);
        await using var a = await StartReplicaAsync(fault);
        await using var b = await StartReplicaAsync(fault: null);
        var queryA = new Query.QueryClient(a.Invoker);
        var queryB = new Query.QueryClient(b.Invoker);
        await ScoringFailureReportingTests.SeedAsync(a, ScoringFailureReportingTests.Broken);
        var onA = await ScoringFailureReportingTests.WaitAsync(queryA, ScoringFailureReportingTests.BrokenId);

        // Act: B asked to wait for everything acknowledged, which only A's failed pass would have covered.
        var elapsed = Stopwatch.StartNew();
        var onB = await queryB.GetRecommendationsAsync(
            new GetRecommendationsRequest { SetId = ScoringFailureReportingTests.BrokenId, WaitForAcknowledged = true, WaitTimeoutMs = 120_000 },
            deadline: DateTime.UtcNow.AddMinutes(2.5),
            cancellationToken: cancellationToken);
        elapsed.Stop();
        var listedOnB = (await queryB.ListSetsAsync(new ListSetsRequest(), cancellationToken: cancellationToken)).Sets.Single(s => s.SetId == ScoringFailureReportingTests.BrokenId);

        // The cause goes away and a record arrives through B: A's next pass succeeds, and B no longer reports a failure.
        fault.Failing = false;
        await PostgresReplicaServers.LogAsync(b, Records.Batch(ScoringFailureReportingTests.Broken, Records.Make([2, 1, 1, 0], "production")), cancellationToken);

        var freshOnB = await ScoringFailureReportingTests.WaitAsync(queryB, ScoringFailureReportingTests.BrokenId);

        // Assert
        Assert.Multiple(() =>
        {
            Assert.That(onA.ScoringFailure?.Message, Is.EqualTo(ScoringFailureReportingTests.FailureMessage), "A scored the set and its pass failed");
            Assert.That(a.Logs.Entries.Any(e => e.Level == LogLevel.Error && e.Message.Contains(ScoringFailureReportingTests.BrokenId, StringComparison.Ordinal)), Is.True);
            Assert.That(onB.CoversRequest, Is.False);
            Assert.That(onB.ScoringFailure?.Message, Is.EqualTo(ScoringFailureReportingTests.FailureMessage), "B tells A's failure");
            // The holder may have run the failing pass again meanwhile (B's wait asks it for a pass): the same failure or a later one.
            Assert.That(onB.ScoringFailure?.FailedUnixMs, Is.GreaterThanOrEqualTo(onA.ScoringFailure?.FailedUnixMs ?? long.MaxValue));
            Assert.That(elapsed.Elapsed, Is.LessThan(TimeSpan.FromSeconds(60)), "B answered when it read the failure, not at the end of its 120 s wait");
            Assert.That(listedOnB.ScoringFailure?.ConsecutiveFailures, Is.GreaterThanOrEqualTo(onA.ScoringFailure?.ConsecutiveFailures ?? int.MaxValue));
            Assert.That(freshOnB.CoversRequest, Is.True);
            Assert.That(freshOnB.ScoringFailure, Is.Null, "the pass that succeeded cleared it on B too");
        });
    }

    // Passes start only when a request waits; the lease outlives the test, so A keeps the set.
    private Task<LoggedServer> StartReplicaAsync(FailingNeighborSearch? fault) => PostgresReplicaServers.StartAsync(
        Database.ConnectionString,
        scoring =>
        {
            scoring.Debounce = TimeSpan.FromMinutes(5);
            scoring.MaxDelay = TimeSpan.FromMinutes(10);
        },
        fault);
}
