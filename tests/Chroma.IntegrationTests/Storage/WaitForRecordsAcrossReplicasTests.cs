using System.Diagnostics;
using Chroma;

namespace Chroma.IntegrationTests.Storage;

/// <summary>
/// GetRecommendations with wait_for_acknowledged on two replicas sharing one PostgreSQL: the ranking the asked replica
/// serves covers every record acknowledged before the call, through either replica, although neither replica reads the
/// shared database on its own for 20 s. The target is the set's newest record read from the database when the call
/// arrives; without it, the asked replica would wait only for what it stored itself and what its last poll saw, and
/// answer at once from the ranking it served before the records came.
/// </summary>
[TestFixture]
[Category("postgres")]
public sealed class WaitForRecordsAcrossReplicasTests
{
    private const int Production = 300;
    private const int Added = 40;

    // Well under the 20 s the replicas wait between their own polls: a waiting replica reads the database again soon.
    private static readonly TimeSpan WellBeforeTheNextPoll = TimeSpan.FromSeconds(15);

    [Test, CancelAfter(240_000)]
    public async Task GetRecommendations_StoredThroughTheScoringReplica_OtherReplicasWaitSeesEveryRecord(CancellationToken cancellationToken)
    {
        // Arrange: A stores and scores the set (it holds the lease); B serves A's stored ranking.
        await using var cluster = await TwoWaitingReplicas.StartAsync("wait-records-a-it", Production, cancellationToken);
        var beforeB = await cluster.ClientB.GetRecommendationsAsync(cluster.SetId, TwoWaitingReplicas.Waiting, cancellationToken);

        // Act: stored (and acknowledged) through A, then asked of B, whose last poll was before the records came.
        await cluster.AddProductionAsync(cluster.EndpointA, Added, seed: 2, cancellationToken);
        var newest = cluster.NewestRecord();
        var elapsed = Stopwatch.StartNew();
        var afterB = await cluster.ClientB.GetRecommendationsAsync(cluster.SetId, TwoWaitingReplicas.Waiting, cancellationToken);
        elapsed.Stop();

        // Assert
        Assert.Multiple(() =>
        {
            Assert.That(cluster.Holder(), Is.EqualTo(cluster.HolderAtStart), "A kept the set's lease");
            Assert.That(beforeB.ScoredRecords, Is.EqualTo(Production), "B served A's ranking before the records came");
            Assert.That(afterB.CoversRequest, Is.True);
            Assert.That(afterB.ScoredRecords, Is.EqualTo(Production + Added), "B's ranking scores the records stored through A");
            Assert.That(afterB.TotalResults, Is.EqualTo(Production + Added));
            Assert.That(afterB.PendingRecords, Is.Zero);
            Assert.That(afterB.CoveredThroughSequence, Is.GreaterThanOrEqualTo(newest), "the ranking covers the newest record");
            Assert.That(afterB.LatestSequence, Is.GreaterThanOrEqualTo(newest), "B reports the newest record it waited for");
            Assert.That(elapsed.Elapsed, Is.LessThan(WellBeforeTheNextPoll), "B learned of A's new ranking before its own next poll");
        });
    }

    [Test, CancelAfter(240_000)]
    public async Task GetRecommendations_StoredThroughTheOtherReplica_BothWaitsSeeEveryRecord(CancellationToken cancellationToken)
    {
        // Arrange
        await using var cluster = await TwoWaitingReplicas.StartAsync("wait-records-b-it", Production, cancellationToken);
        var beforeA = await cluster.ClientA.GetRecommendationsAsync(cluster.SetId, TwoWaitingReplicas.Waiting, cancellationToken);

        // Act: stored through B, which does not score the set; then asked of A (which scores it, and has not polled
        // since), and of B.
        await cluster.AddProductionAsync(cluster.EndpointB, Added, seed: 3, cancellationToken);
        var newest = cluster.NewestRecord();
        var afterA = await cluster.ClientA.GetRecommendationsAsync(cluster.SetId, TwoWaitingReplicas.Waiting, cancellationToken);
        var afterB = await cluster.ClientB.GetRecommendationsAsync(cluster.SetId, TwoWaitingReplicas.Waiting, cancellationToken);

        // Assert
        Assert.Multiple(() =>
        {
            Assert.That(cluster.Holder(), Is.EqualTo(cluster.HolderAtStart), "A kept the set's lease");
            Assert.That(beforeA.ScoredRecords, Is.EqualTo(Production));
            Assert.That((afterA.CoversRequest, afterB.CoversRequest), Is.EqualTo((true, true)));
            Assert.That(afterA.ScoredRecords, Is.EqualTo(Production + Added), "the scoring replica scored the records stored through B");
            Assert.That(afterB.ScoredRecords, Is.EqualTo(Production + Added));
            Assert.That(afterA.CoveredThroughSequence, Is.GreaterThanOrEqualTo(newest));
            Assert.That(afterB.CoveredThroughSequence, Is.GreaterThanOrEqualTo(newest));
            Assert.That(afterB.Items.Select(i => i.Record.Id), Is.EqualTo(afterA.Items.Select(i => i.Record.Id)), "the same ranking from both");
        });
    }
}
