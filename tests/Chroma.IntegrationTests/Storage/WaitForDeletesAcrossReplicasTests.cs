using Chroma;

namespace Chroma.IntegrationTests.Storage;

/// <summary>
/// GetRecommendations with wait_for_acknowledged on two replicas sharing one PostgreSQL: the ranking the asked replica
/// serves has dropped every record deleted before the call, through either replica. The replicas read the shared
/// database on their own only every 20 s, so a replica that did not wait for the deletes would answer from the ranking
/// it read before them (scored_records and total_results still counting the deleted records).
/// </summary>
[TestFixture]
[Category("postgres")]
public sealed class WaitForDeletesAcrossReplicasTests
{
    private const int Production = 600;
    private static readonly RecommendationQuery Waiting = TwoWaitingReplicas.Waiting;

    [Test, CancelAfter(240_000)]
    public async Task GetRecommendations_DeletedThroughTheScoringReplica_OtherReplicasWaitEndsWithTheRecordsDropped(CancellationToken cancellationToken)
    {
        // Arrange: A stores and scores the set (it holds the lease); B starts after and serves A's stored ranking.
        await using var cluster = await TwoWaitingReplicas.StartAsync("wait-deletes-it", Production, cancellationToken);
        var (viaA, viaB) = (cluster.ClientA, cluster.ClientB);
        var beforeB = await viaB.GetRecommendationsAsync(cluster.SetId, Waiting, cancellationToken);
        var deleted = beforeB.Items.Take(5).Select(i => i.Record.Id).ToList();

        // Act
        await viaA.DeleteAsync(cluster.SetId, deleted, cancellationToken);
        var afterB = await viaB.GetRecommendationsAsync(cluster.SetId, Waiting, cancellationToken);

        // Assert
        Assert.Multiple(() =>
        {
            Assert.That(cluster.Holder(), Is.EqualTo(cluster.HolderAtStart), "A kept the set's lease");
            Assert.That(beforeB.ScoredRecords, Is.EqualTo(Production), "B served the whole ranking before the delete");
            Assert.That(afterB.CoversRequest, Is.True);
            Assert.That(afterB.ScoredRecords, Is.EqualTo(Production - 5), "B's ranking no longer counts the records deleted through A");
            Assert.That(afterB.TotalResults, Is.EqualTo(Production - 5));
            Assert.That(afterB.Items.Select(i => i.Record.Id).Intersect(deleted), Is.Empty);
            Assert.That(afterB.Items.Select(i => i.ScoreRank), Is.EqualTo(Enumerable.Range(1, Production - 5)), "no gap left by a deleted entry");
        });
    }

    [Test, CancelAfter(240_000)]
    public async Task GetRecommendations_DeletedThroughTheOtherReplica_BothWaitsEndWithTheRecordsDropped(CancellationToken cancellationToken)
    {
        // Arrange
        await using var cluster = await TwoWaitingReplicas.StartAsync("wait-deletes-it", Production, cancellationToken);
        var (viaA, viaB) = (cluster.ClientA, cluster.ClientB);
        var beforeA = await viaA.GetRecommendationsAsync(cluster.SetId, Waiting, cancellationToken);
        var beforeB = await viaB.GetRecommendationsAsync(cluster.SetId, Waiting, cancellationToken);
        var deleted = beforeB.Items.Take(7).Select(i => i.Record.Id).ToList();

        // Act: deleted through B, which does not score the set; then asked of A (which scores it) and of B.
        await viaB.DeleteAsync(cluster.SetId, deleted, cancellationToken);
        var afterA = await viaA.GetRecommendationsAsync(cluster.SetId, Waiting, cancellationToken);
        var afterB = await viaB.GetRecommendationsAsync(cluster.SetId, Waiting, cancellationToken);

        // Assert
        Assert.Multiple(() =>
        {
            Assert.That(cluster.Holder(), Is.EqualTo(cluster.HolderAtStart), "A kept the set's lease");
            Assert.That((beforeA.ScoredRecords, beforeB.ScoredRecords), Is.EqualTo((Production, Production)));
            Assert.That((afterA.CoversRequest, afterB.CoversRequest), Is.EqualTo((true, true)));
            Assert.That(afterA.ScoredRecords, Is.EqualTo(Production - 7), "the scoring replica applied the delete made through B");
            Assert.That(afterB.ScoredRecords, Is.EqualTo(Production - 7), "B's ranking applied its own delete");
            Assert.That(afterA.TotalResults, Is.EqualTo(Production - 7));
            Assert.That(afterB.TotalResults, Is.EqualTo(Production - 7));
            Assert.That(afterA.Items.Select(i => i.Record.Id).Intersect(deleted), Is.Empty);
            Assert.That(afterB.Items.Select(i => i.Record.Id), Is.EqualTo(afterA.Items.Select(i => i.Record.Id)), "the same ranking from both");
            Assert.That(cluster.DeletesApplied(), Is.EqualTo(7), "the scoring replica published the deletes its stored ranking applied");
        });
    }
}
