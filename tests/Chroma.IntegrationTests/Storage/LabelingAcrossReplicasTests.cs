using Chroma;

namespace Chroma.IntegrationTests.Storage;

/// <summary>
/// The labeling loop on two replicas sharing one PostgreSQL: labels, review states and the audit trail written through
/// one replica are what the other serves (its rankings leave the reviewed records out, its labeled records and history
/// hold them). Before, each replica kept them in a SQLite file of its own data directory.
/// </summary>
[TestFixture]
[Category("postgres")]
public sealed class LabelingAcrossReplicasTests
{
    private const int Production = 300;

    [Test, CancelAfter(240_000)]
    public async Task LabelAndDismissThroughA_BServesTheSameLabelsRankingAndHistory(CancellationToken cancellationToken)
    {
        // Arrange: A stores and scores the set; B serves A's stored ranking.
        await using var cluster = await TwoWaitingReplicas.StartAsync("labels-across-it", Production, cancellationToken);
        var (viaA, viaB) = (cluster.ClientA, cluster.ClientB);
        var before = await viaB.GetRecommendationsAsync(cluster.SetId, TwoWaitingReplicas.Waiting, cancellationToken);
        var labeled = before.Items.Take(3).Select(i => i.Record.Id).ToList();
        var dismissed = before.Items.Skip(3).Take(2).Select(i => i.Record.Id).ToList();

        // Act
        await viaA.LabelAsync(cluster.SetId, labeled.Select(id => new RecordLabel { RecordId = id, Label = "7", Note = "checked" }), "ada", cancellationToken);
        await viaA.SetReviewStateAsync(cluster.SetId, dismissed, ReviewState.Dismissed, "ada", cancellationToken);
        var afterB = await viaB.GetRecommendationsAsync(cluster.SetId, TwoWaitingReplicas.Waiting, cancellationToken);
        var withReviewedB = await viaB.GetRecommendationsAsync(
            cluster.SetId, new RecommendationQuery { AllScores = true, PageSize = 1_000, IncludeReviewed = true }, cancellationToken);
        var labeledOnB = new List<ChromaRecord>();
        await foreach (var record in viaB.GetLabeledRecordsAsync(cluster.SetId, cancellationToken: cancellationToken))
        {
            labeledOnB.Add(record);
        }

        var historyOnB = await viaB.GetReviewHistoryAsync(cluster.SetId, labeled[0], cancellationToken);

        // Assert
        var reviewed = labeled.Concat(dismissed).ToList();
        Assert.Multiple(() =>
        {
            Assert.That(afterB.Items.Select(i => i.Record.Id).Intersect(reviewed), Is.Empty, "B's ranking leaves out what was reviewed through A");
            Assert.That(withReviewedB.Items.Select(i => i.Record.Id), Is.SupersetOf(reviewed), "and keeps it when asked to");
            Assert.That(labeledOnB.Select(r => r.Id), Is.EquivalentTo(labeled));
            Assert.That(labeledOnB.Select(r => r.Review!.Label), Has.All.EqualTo("7"));
            Assert.That(historyOnB.Select(e => (e.Action, e.Actor)), Is.EqualTo(new[] { ("label", "ada") }));
        });
    }
}
