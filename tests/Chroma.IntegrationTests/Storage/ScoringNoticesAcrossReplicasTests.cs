using System.Diagnostics;
using Chroma;

namespace Chroma.IntegrationTests.Storage;

/// <summary>
/// Replicas sharing one PostgreSQL wake each other's scoring with <c>NOTIFY</c> instead of waiting for their own polls,
/// which run only every 20 s here (<see cref="TwoWaitingReplicas"/>). A, which scores the set, polled last at the end of
/// the cluster's start and B at its first waiting call, each of which is at most a few seconds before the act: without
/// the notices neither answer could come before the replica's next poll, 20 s after its last.
/// </summary>
[TestFixture]
[Category("postgres")]
public sealed class ScoringNoticesAcrossReplicasTests
{
    private const int Production = 300;
    private const int Added = 40;

    // Far under the 20 s between polls, which the old code took (19.8 s and 20.8 s): what only a notice can explain. The
    // holder's pass (drift included) and the read-back took 0.5-2.7 s here at load average 14-25.
    private static readonly TimeSpan BeforeAnyPoll = TimeSpan.FromSeconds(8);

    private static readonly RecommendationQuery NotWaiting = new() { AllScores = true, PageSize = 1_000 };

    [Test, CancelAfter(240_000)]
    public async Task GetRecommendations_StoredThroughTheNonScoringReplicaAndWaitedForThere_AnsweredBeforeEitherPolls(CancellationToken cancellationToken)
    {
        // Arrange: A holds the set's lease; B serves A's stored ranking.
        await using var cluster = await TwoWaitingReplicas.StartAsync("notice-wait-it", Production, cancellationToken);
        var beforeB = await cluster.ClientB.GetRecommendationsAsync(cluster.SetId, TwoWaitingReplicas.Waiting, cancellationToken);

        // Act: stored through B, then waited for on B. A hears of the records and of the wait only from B's notices,
        // and B of A's new ranking only from A's.
        await cluster.AddProductionAsync(cluster.EndpointB, Added, seed: 4, cancellationToken);
        var newest = cluster.NewestRecord();
        var elapsed = Stopwatch.StartNew();
        var afterB = await cluster.ClientB.GetRecommendationsAsync(cluster.SetId, TwoWaitingReplicas.Waiting, cancellationToken);
        elapsed.Stop();
        TestContext.Out.WriteLine($"B's wait for the records stored through it: {elapsed.ElapsedMilliseconds} ms");

        // Assert
        Assert.Multiple(() =>
        {
            Assert.That(cluster.Holder(), Is.EqualTo(cluster.HolderAtStart), "A kept the set's lease (B did not score it)");
            Assert.That(beforeB.ScoredRecords, Is.EqualTo(Production));
            Assert.That(afterB.CoversRequest, Is.True);
            Assert.That(afterB.ScoredRecords, Is.EqualTo(Production + Added), "A scored the records stored through B");
            Assert.That(afterB.CoveredThroughSequence, Is.GreaterThanOrEqualTo(newest));
            Assert.That(elapsed.Elapsed, Is.LessThan(BeforeAnyPoll), "answered before A's next poll could have seen the records");
        });
    }

    [Test, CancelAfter(240_000)]
    public async Task GetRecommendations_ScoringReplicaPublishedAPass_OtherReplicaServesItWithoutWaitingOrPolling(CancellationToken cancellationToken)
    {
        // Arrange: B's waiting call makes it poll once now; its next poll is 20 s later.
        await using var cluster = await TwoWaitingReplicas.StartAsync("notice-ranking-it", Production, cancellationToken);
        var beforeB = await cluster.ClientB.GetRecommendationsAsync(cluster.SetId, TwoWaitingReplicas.Waiting, cancellationToken);
        await cluster.AddProductionAsync(cluster.EndpointA, Added, seed: 5, cancellationToken);
        var afterA = await cluster.ClientA.GetRecommendationsAsync(cluster.SetId, TwoWaitingReplicas.Waiting, cancellationToken);

        // Act: B is asked without waiting (nothing makes it poll) until it serves A's new ranking.
        var elapsed = Stopwatch.StartNew();
        var afterB = await cluster.ClientB.GetRecommendationsAsync(cluster.SetId, NotWaiting, cancellationToken);
        while (afterB.ScoredRecords != Production + Added && elapsed.Elapsed < 4 * BeforeAnyPoll)
        {
            await Task.Delay(50, cancellationToken);
            afterB = await cluster.ClientB.GetRecommendationsAsync(cluster.SetId, NotWaiting, cancellationToken);
        }

        elapsed.Stop();
        TestContext.Out.WriteLine($"B served A's new ranking after {elapsed.ElapsedMilliseconds} ms");

        // Assert
        Assert.Multiple(() =>
        {
            Assert.That(cluster.Holder(), Is.EqualTo(cluster.HolderAtStart), "A kept the set's lease");
            Assert.That(beforeB.ScoredRecords, Is.EqualTo(Production));
            Assert.That(afterA.ScoredRecords, Is.EqualTo(Production + Added), "A scored the records stored through it");
            Assert.That(afterB.ScoredRecords, Is.EqualTo(Production + Added), "B serves A's new ranking");
            Assert.That(afterB.Items.Select(i => i.Record.Id), Is.EqualTo(afterA.Items.Select(i => i.Record.Id)), "the same ranking from both");
            Assert.That(elapsed.Elapsed, Is.LessThan(BeforeAnyPoll), "B read the ranking when A announced it, not at its next poll");
        });
    }
}
