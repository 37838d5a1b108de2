using Chroma.Protocol.V1;
using Chroma.Server.Tests.Recommendations.Data;
using Chroma.Server.Tests.TestSupport;
using NUnit.Framework;

namespace Chroma.Server.Tests.Services;

/// <summary>
/// Paging a spread ranking over gRPC: pages of mixed sizes, joined, are the same list as one large page (in order), so
/// they never repeat or skip a record, and a list of whole blocks holds exactly its span of the score order. A client
/// written from the proto checks this contract (tests/outside-in, "pages of 37 = one page of 1000").
/// </summary>
public class RecommendationPagingTests
{
    private const int Dimension = 16;
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);
    private static readonly EmbeddingSetDescriptor Set = Records.Set(Dimension);
    private static readonly string SetId = Records.SetId(Set);

    private static Record[] Rows(float[] embeddings, string dataset, string[]? labels = null) =>
        [.. Enumerable.Range(0, embeddings.Length / Dimension).Select(i => Records.Make(embeddings.AsSpan(i * Dimension, Dimension).ToArray(), dataset, labels?[i]))];

    private static async Task<GetRecommendationsResponse> PageAsync(RunningServer server, Diversity diversity, int pageSize, string token) =>
        await server.Query.GetRecommendationsAsync(
            new GetRecommendationsRequest { SetId = SetId, Diversity = diversity, PageSize = pageSize, PageToken = token, WaitForAcknowledged = true },
            deadline: DateTime.UtcNow + Timeout);

    [Test]
    public async Task GetRecommendations_PagesOfMixedSizes_JoinedAreTheOneLargePageAndHoldItsScoreSpan()
    {
        // Training: two classes. Production: ordinary records of both classes and three tight groups of outliers in
        // other directions, so the top of the score order has regions for spreading to interleave.
        await using var server = await RunningServer.StartAsync(_ => { });
        var (training, labels) = SyntheticEmbeddings.Clusters(2, 200, Dimension, separation: 6, seed: 1);
        var (ordinary, _) = SyntheticEmbeddings.Clusters(2, 100, Dimension, separation: 6, seed: 2);
        float[] outliers =
        [
            .. SyntheticEmbeddings.Around(SyntheticEmbeddings.Axis(Dimension, 5, 12), 30, 1.0, seed: 3),
            .. SyntheticEmbeddings.Around(SyntheticEmbeddings.Axis(Dimension, 8, 11), 30, 1.0, seed: 4),
            .. SyntheticEmbeddings.Around(SyntheticEmbeddings.Axis(Dimension, 12, 10), 30, 1.0, seed: 5),
        ];
        var acks = await server.LogAsync(Records.Batch(Set, Rows(training, "training", labels)), Records.Batch(Set, [.. Rows(ordinary, "production"), .. Rows(outliers, "production")]));
        Assert.That(acks.Select(a => a.Error), Has.All.Null);
        var plain = (await PageAsync(server, Diversity.Off, 1000, "")).Recommendations.Select(r => r.Record.Record.Id).ToList();
        Assert.That(plain, Has.Count.GreaterThan(150));

        foreach (var diversity in new[] { Diversity.Default, Diversity.Strong })
        {
            var served = new List<string>();
            var token = "";
            foreach (var size in new[] { 14, 7, 33, 3, 43 })
            {
                var page = await PageAsync(server, diversity, size, token);
                served.AddRange(page.Recommendations.Select(r => r.Record.Record.Id));
                token = page.NextPageToken;
            }

            var whole = (await PageAsync(server, diversity, 100, "")).Recommendations.Select(r => r.Record.Record.Id).ToList();
            Assert.Multiple(() =>
            {
                Assert.That(served, Is.EqualTo(whole), $"{diversity}: the pages joined are the one large page");
                Assert.That(served, Is.Unique, diversity.ToString());
                Assert.That(served, Is.EquivalentTo(plain.Take(100)), $"{diversity}: 100 (whole blocks) hold exactly the top 100 by score");
                Assert.That(served, Is.Not.EqualTo(plain.Take(100)), $"{diversity}: and are spread, not in score order");
            });
        }
    }

    [Test]
    public async Task GetRecommendations_RecordsDeletedSinceThePass_PagesAreFilledFromDeeperAndPagingSkipsNothing()
    {
        // Probe W, W9: while the ranking still held deleted records (a pass not run since), pages of 20 held 10-11.
        // A pass runs only when a request waits (debounce 5 min), so the deletes stay in the ranking served.
        await using var server = await RunningServer.StartAsync(o =>
        {
            o.Scoring.Debounce = TimeSpan.FromMinutes(5);
            o.Scoring.MaxDelay = TimeSpan.FromMinutes(10);
        });
        var (training, labels) = SyntheticEmbeddings.Clusters(2, 50, Dimension, separation: 6, seed: 1);
        var (production, _) = SyntheticEmbeddings.Clusters(2, 20, Dimension, separation: 6, seed: 2);
        await server.LogAsync(Records.Batch(Set, Rows(training, "training", labels)), Records.Batch(Set, Rows(production, "production")));
        var before = (await PageAsync(server, Diversity.Off, 100, "")).Recommendations.Select(r => r.Record.Record.Id).ToList();
        var deleted = before.Where((_, i) => i % 3 != 2).Take(20).ToList();
        await server.Query.DeleteRecordsAsync(new DeleteRecordsRequest { SetId = SetId, Ids = { deleted } });

        // Act: pages of 7 without waiting for a pass.
        var served = new List<string>();
        var sizes = new List<int>();
        var token = "";
        do
        {
            var page = await server.Query.GetRecommendationsAsync(
                new GetRecommendationsRequest { SetId = SetId, Diversity = Diversity.Off, PageSize = 7, PageToken = token },
                deadline: DateTime.UtcNow + Timeout);
            served.AddRange(page.Recommendations.Select(r => r.Record.Record.Id));
            sizes.Add(page.Recommendations.Count);
            token = page.NextPageToken;
        }
        while (token.Length > 0);

        // Assert
        Assert.Multiple(() =>
        {
            Assert.That(before, Has.Count.EqualTo(40));
            Assert.That(served, Is.EqualTo(before.Except(deleted)), "every record left, in score order, once");
            Assert.That(sizes.Take(2), Is.All.EqualTo(7), "full pages while records are left");
        });
    }
}
