using Chroma;
using Grpc.Core;

namespace Chroma.IntegrationTests.Storage;

/// <summary>
/// GetRecommendations' page tokens on two replicas sharing one PostgreSQL, as behind a load balancer that sends each
/// call to either: the next page may be asked of the other replica. A token names its ranking by the ranking's content
/// (the scores the holder stored and the reviewed records left out), so any replica serving that ranking serves the
/// next page; before, it named the asking replica's own revision counter, and the other replica refused page 2 with
/// FailedPrecondition. Both report the time the scoring replica computed the ranking (before, each its own).
/// </summary>
[TestFixture]
[Category("postgres")]
public sealed class PagingAcrossReplicasTests
{
    private const int Production = 300;
    private const int PageSize = 37;

    [Test, CancelAfter(240_000)]
    public async Task NextPages_AskedOfEitherReplicaInTurn_JoinedAreTheWholeRanking(CancellationToken cancellationToken)
    {
        // Arrange: A stores and scores the set, B serves what A stored; a few records are reviewed through A, so the
        // ranking leaves records out on both.
        await using var cluster = await TwoWaitingReplicas.StartAsync("paging-across-it", Production, cancellationToken);
        var (viaA, viaB) = (cluster.ClientA, cluster.ClientB);
        var top = await viaA.GetRecommendationsAsync(cluster.SetId, TwoWaitingReplicas.Waiting, cancellationToken);
        await viaA.LabelAsync(cluster.SetId, top.Items.Take(4).Select(i => new RecordLabel { RecordId = i.Record.Id, Label = "7" }), "ada", cancellationToken);

        foreach (var allScores in new[] { false, true })
        {
            var query = new RecommendationQuery { AllScores = allScores, PageSize = 1_000, Diversity = RecommendationDiversity.Default };
            var pageA = await viaA.GetRecommendationsAsync(cluster.SetId, query, cancellationToken);
            var pageB = await viaB.GetRecommendationsAsync(cluster.SetId, query, cancellationToken);
            var (wholeA, wholeB) = (Ids(pageA), Ids(pageB));

            // The scoring replica may publish another pass meanwhile (B reads it a moment later): asked again until both
            // serve one pass, they give it the same time; before, each replica gave it its own.
            var sameComputedAt = pageA.ComputedAt == pageB.ComputedAt;
            for (var attempt = 0; attempt < 20 && !sameComputedAt; attempt++)
            {
                await Task.Delay(100, cancellationToken);
                sameComputedAt = (await viaA.GetRecommendationsAsync(cluster.SetId, query, cancellationToken)).ComputedAt
                    == (await viaB.GetRecommendationsAsync(cluster.SetId, query, cancellationToken)).ComputedAt;
            }

            // Act: pages of 37, first page from A then B, A, B, ...; and the other way round.
            var startingWithA = await PageInTurnsAsync([viaA, viaB], cluster.SetId, allScores, cancellationToken);
            var startingWithB = await PageInTurnsAsync([viaB, viaA], cluster.SetId, allScores, cancellationToken);

            // Assert
            Assert.Multiple(() =>
            {
                Assert.That(wholeB, Is.EqualTo(wholeA), $"all_scores {allScores}: both replicas serve the same ranking");
                Assert.That(sameComputedAt, Is.True, "and say it was computed at the same time, once both serve the same pass (probe H, H1)");
                Assert.That(wholeA, Has.Count.GreaterThan(3 * PageSize), "several pages");
                Assert.That(startingWithA, Is.EqualTo(wholeA), $"all_scores {allScores}: pages from A, B, A, ... joined are the ranking");
                Assert.That(startingWithB, Is.EqualTo(wholeA), $"all_scores {allScores}: pages from B, A, B, ... joined are the ranking");
            });
        }
    }

    [Test, CancelAfter(240_000)]
    public async Task NextPage_RankingReplacedBetweenPages_TheReplicaThatServedItGoesOnTheOtherRefusesSayingWhy(CancellationToken cancellationToken)
    {
        // Arrange
        await using var cluster = await TwoWaitingReplicas.StartAsync("paging-replaced-it", Production, cancellationToken);
        var (viaA, viaB) = (cluster.ClientA, cluster.ClientB);
        var whole = Ids(await viaA.GetRecommendationsAsync(cluster.SetId, new RecommendationQuery { PageSize = 1_000 }, cancellationToken));
        var first = await viaA.GetRecommendationsAsync(cluster.SetId, new RecommendationQuery { PageSize = PageSize }, cancellationToken);

        // Act: records arrive and both replicas serve the new ranking; the listing goes on, on B, then on A.
        await cluster.AddProductionAsync(cluster.EndpointA, 40, seed: 5, cancellationToken);
        var newA = await viaA.GetRecommendationsAsync(cluster.SetId, TwoWaitingReplicas.Waiting, cancellationToken);
        var newB = await viaB.GetRecommendationsAsync(cluster.SetId, TwoWaitingReplicas.Waiting, cancellationToken);
        var next = new RecommendationQuery { PageSize = PageSize, PageToken = first.NextPageToken };
        var refused = Assert.ThrowsAsync<ChromaException>(() => viaB.GetRecommendationsAsync(cluster.SetId, next, cancellationToken));
        var secondA = await viaA.GetRecommendationsAsync(cluster.SetId, next, cancellationToken);

        // Assert
        Assert.Multiple(() =>
        {
            Assert.That((newA.ScoredRecords, newB.ScoredRecords), Is.EqualTo((Production + 40L, Production + 40L)), "the ranking was replaced on both");
            Assert.That(refused!.StatusCode, Is.EqualTo(StatusCode.FailedPrecondition));
            Assert.That(refused.Message, Does.Contain("replaced").And.Contain("a replica holds only the replaced rankings it served pages of itself"));
            Assert.That(Ids(secondA), Is.EqualTo(whole.Skip(PageSize).Take(PageSize)), "A kept the ranking its first page came from");
        });
    }

    [Test, CancelAfter(240_000)]
    public async Task NextPage_OfANewRankingAskedOfTheOtherReplicaAtOnce_ServedFromThatRanking(CancellationToken cancellationToken)
    {
        // Arrange
        await using var cluster = await TwoWaitingReplicas.StartAsync("paging-new-it", Production, cancellationToken);
        var (viaA, viaB) = (cluster.ClientA, cluster.ClientB);

        // Act: records arrive through A; A's first page waits for the ranking that scores them, and the next page is
        // asked of B at once, which may not have read A's new ranking yet (then it catches up before answering).
        await cluster.AddProductionAsync(cluster.EndpointA, 40, seed: 6, cancellationToken);
        var first = await viaA.GetRecommendationsAsync(
            cluster.SetId, new RecommendationQuery { PageSize = PageSize, WaitForAcknowledged = true, WaitTimeout = TimeSpan.FromSeconds(30) }, cancellationToken);
        var secondB = await viaB.GetRecommendationsAsync(cluster.SetId, new RecommendationQuery { PageSize = PageSize, PageToken = first.NextPageToken }, cancellationToken);
        var whole = Ids(await viaA.GetRecommendationsAsync(cluster.SetId, new RecommendationQuery { PageSize = 1_000 }, cancellationToken));

        // Assert
        Assert.Multiple(() =>
        {
            Assert.That(first.ScoredRecords, Is.EqualTo(Production + 40L));
            Assert.That(Ids(first).Concat(Ids(secondB)), Is.EqualTo(whole.Take(2 * PageSize)), "B's page is the second page of A's ranking");
        });
    }

    private static List<string> Ids(RecommendationPage page) => [.. page.Items.Select(i => i.Record.Id)];

    private static async Task<List<string>> PageInTurnsAsync(ChromaClient[] replicas, string setId, bool allScores, CancellationToken cancellationToken)
    {
        var served = new List<string>();
        var query = new RecommendationQuery { AllScores = allScores, PageSize = PageSize, Diversity = RecommendationDiversity.Default };
        for (var turn = 0; ; turn++)
        {
            var page = await replicas[turn % replicas.Length].GetRecommendationsAsync(setId, query, cancellationToken);
            served.AddRange(Ids(page));
            if (page.NextPageToken is null)
            {
                return served;
            }

            query.PageToken = page.NextPageToken;
        }
    }
}
