using System.Diagnostics;
using Chroma.Protocol.V1;
using Chroma.Server.Tests.Reliability;
using Chroma.Server.Tests.Storage;
using Chroma.Server.Tests.TestSupport;

namespace Chroma.Server.Tests.Recommendations.Scheduling;

/// <summary>
/// Training records arrive through one replica of two on PostgreSQL: the replica that does not score the set marks the
/// ranking it serves stale, as the scoring replica does while it refits, until it reads the refitted ranking. Before
/// (outside-in probe H, H5), it went on serving the old ranking as current (stale = false, nothing pending) for the
/// whole refit, and a client behind a load balancer was told "stale" and "current" in turn.
/// </summary>
[TestFixture]
[Category("postgres")]
public sealed class StaleAcrossReplicasTests : PostgresDatabaseTest
{
    private static readonly EmbeddingSetDescriptor Set = Records.Set(dimension: 4, model: "refit-across");
    private static readonly string SetId = Records.SetId(Set);

    [Test, CancelAfter(180_000)]
    public async Task GetRecommendations_TrainingArrivesThroughTheHolder_OtherReplicaServesItStaleUntilTheRefitIsStored(CancellationToken cancellationToken)
    {
        // Arrange: A scores the set (passes run only when a request waits); B serves what A stored.
        await using var a = await StartReplicaAsync();
        await using var b = await StartReplicaAsync();
        var (queryA, queryB) = (new Query.QueryClient(a.Invoker), new Query.QueryClient(b.Invoker));
        await ScoringFailureReportingTests.SeedAsync(a, Set);
        var scoredA = await ScoringFailureReportingTests.WaitAsync(queryA, SetId);
        var servedB = await ScoringFailureReportingTests.WaitAsync(queryB, SetId);

        // Act: more labelled training records through A; no pass runs until a request waits for one.
        var training = Enumerable.Range(0, 10).Select(i => Records.Make([i % 2 == 0 ? 4 : -4, i * 0.2f, 1, 0], "training", i % 2 == 0 ? "a" : "b")).ToArray();
        await PostgresReplicaServers.LogAsync(a, Records.Batch(Set, training), cancellationToken);
        var staleOnB = await UntilAsync(queryB, page => page.Stale, cancellationToken);
        var refittedA = await ScoringFailureReportingTests.WaitAsync(queryA, SetId);
        var refittedB = await ScoringFailureReportingTests.WaitAsync(queryB, SetId);

        // Assert
        Assert.Multiple(() =>
        {
            Assert.That((scoredA.Stale, servedB.Stale), Is.EqualTo((false, false)), "both current before");
            Assert.That(staleOnB?.Stale, Is.True, "B marks the old ranking stale once its poll sees the training change");
            Assert.That(staleOnB?.Recommendations, Is.Not.Empty, "and still serves it");
            Assert.That((refittedA.Stale, refittedB.Stale), Is.EqualTo((false, false)), "both current once the refit is stored");
            Assert.That(refittedB.CoversRequest, Is.True);
        });
    }

    // Asks (without waiting for a pass) until the answer satisfies `done`, for 60 s at most; null when it never did.
    private static async Task<GetRecommendationsResponse?> UntilAsync(Query.QueryClient query, Func<GetRecommendationsResponse, bool> done, CancellationToken cancellationToken)
    {
        var elapsed = Stopwatch.StartNew();
        while (elapsed.Elapsed < TimeSpan.FromSeconds(60))
        {
            var page = await query.GetRecommendationsAsync(new GetRecommendationsRequest { SetId = SetId }, cancellationToken: cancellationToken);
            if (done(page))
            {
                return page;
            }

            await Task.Delay(100, cancellationToken);
        }

        return null;
    }

    private Task<LoggedServer> StartReplicaAsync() => PostgresReplicaServers.StartAsync(
        Database.ConnectionString,
        scoring =>
        {
            scoring.Debounce = TimeSpan.FromMinutes(5);
            scoring.MaxDelay = TimeSpan.FromMinutes(10);
            scoring.ChangePollInterval = TimeSpan.FromMilliseconds(200);
        });
}
