using Chroma.Protocol.V1;
using Chroma.Server.Tests.Recommendations.Data;
using Chroma.Server.Tests.TestSupport;
using Grpc.Core;
using NUnit.Framework;

namespace Chroma.Server.Tests.Services;

/// <summary>
/// A page token of GetRecommendations continues the ranking its first page came from: records that arrive, and
/// reviews made, between pages neither repeat nor skip a record (an outside probe saw 100 repeats and 100 records
/// never served in an all_scores export of 2,300 while production kept arriving). Tokens of another call or query
/// are refused.
/// </summary>
public class RecommendationPageTokenTests
{
    private const int Dimension = 16;
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    [TestCase(true)]
    [TestCase(false)]
    [CancelAfter(120_000)]
    public async Task NextPages_NewRecordsRankedHighBetweenPages_ThePagesJoinedAreTheFirstPagesRanking(bool allScores)
    {
        // Arrange: 200 ordinary production records ranked; the whole ranking read in one page and the first of 40.
        await using var server = await RunningServer.StartAsync(_ => { });
        var set = await TwoClassesAsync(server, allScores ? "token-all" : "token-ranked", 200, 100, seed: 1);
        var whole = Ids(await PageAsync(server, set, allScores, 1000, ""));
        var first = await PageAsync(server, set, allScores, 40, "");

        // Act: 60 outliers arrive and are ranked (a first page now shows them), then the first listing goes on.
        var outliers = SyntheticEmbeddings.Around(SyntheticEmbeddings.Axis(Dimension, 5, 14), 60, 1.0, seed: 3);
        var outlierRows = Rows(outliers, "production");
        Assert.That((await server.LogAsync(Records.Batch(set, outlierRows))).Single().Error, Is.Null);
        var fresh = await PageAsync(server, set, allScores, 40, "");
        var served = Ids(first);
        var token = first.NextPageToken;
        while (token.Length > 0)
        {
            var page = await PageAsync(server, set, allScores, 40, token);
            served.AddRange(Ids(page));
            token = page.NextPageToken;
        }

        // Assert
        Assert.That(Ids(fresh), Has.Some.AnyOf(outlierRows.Select(r => r.Id).ToArray()), "the ranking was replaced between the pages");
        Assert.That(served, Is.EqualTo(whole), "the pages joined are the ranking the first page came from, in its order");
        Assert.That(served, Is.Unique);
    }

    [Test]
    [CancelAfter(120_000)]
    public async Task NextPages_RecordLabeledBetweenPages_StillServedOnceAndNothingSkipped()
    {
        // Arrange
        await using var server = await RunningServer.StartAsync(_ => { });
        var set = await TwoClassesAsync(server, "token-labeled", 200, 60, seed: 4);
        var setId = Records.SetId(set);
        var whole = Ids(await PageAsync(server, set, allScores: false, 1000, ""));
        var first = await PageAsync(server, set, allScores: false, 20, "");

        // Act: a reviewer labels a record the next page would show; the listing goes on.
        var labeling = new Chroma.Protocol.V1.Labeling.LabelingClient(server.Channel);
        await labeling.LabelRecordsAsync(new LabelRecordsRequest { SetId = setId, Reviewer = "ada", Labels = { new RecordLabel { RecordId = whole[25], Label = "0" } } });
        var second = await PageAsync(server, set, allScores: false, 20, first.NextPageToken);
        var restartedFirst = await PageAsync(server, set, allScores: false, 1000, "");

        // Assert
        Assert.That(Ids(second), Is.EqualTo(whole.Skip(20).Take(20)), "the second page of the first page's ranking, nothing skipped");
        Assert.That(second.Recommendations.Single(r => r.Record.Record.Id == whole[25]).Record.Review.Label, Is.EqualTo("0"), "served with its review as it is now");
        Assert.That(Ids(restartedFirst), Does.Not.Contain(whole[25]), "a new listing leaves the reviewed record out");
    }

    [Test]
    [CancelAfter(60_000)]
    public async Task PageToken_OfAnotherCallOrQuery_InvalidArgumentSayingWhich()
    {
        // Arrange
        await using var server = await RunningServer.StartAsync(_ => { });
        var set = await TwoClassesAsync(server, "token-foreign", 100, 30, seed: 6);
        var setId = Records.SetId(set);
        var first = await PageAsync(server, set, allScores: false, 10, "");
        var records = await server.Query.GetRecordsAsync(new GetRecordsRequest { SetId = setId, PageSize = 5 });

        // Act
        var otherCall = Assert.ThrowsAsync<RpcException>(async () => await server.Query.GetRecommendationsAsync(
            new GetRecommendationsRequest { SetId = setId, PageSize = 10, PageToken = records.NextPageToken }));
        var otherQuery = Assert.ThrowsAsync<RpcException>(async () => await server.Query.GetRecommendationsAsync(
            new GetRecommendationsRequest { SetId = setId, PageSize = 10, PageToken = first.NextPageToken, Strategy = RecommendationStrategy.OutOfDistribution }));
        var otherSize = await server.Query.GetRecommendationsAsync(new GetRecommendationsRequest { SetId = setId, PageSize = 7, PageToken = first.NextPageToken });

        // The token with another set, and given to GetRecords.
        var otherSet = await TwoClassesAsync(server, "token-foreign-other", 100, 30, seed: 8);
        var otherSetAnswer = Assert.ThrowsAsync<RpcException>(async () => await server.Query.GetRecommendationsAsync(
            new GetRecommendationsRequest { SetId = Records.SetId(otherSet), PageSize = 10, PageToken = first.NextPageToken }));
        var toGetRecords = Assert.ThrowsAsync<RpcException>(async () => await server.Query.GetRecordsAsync(
            new GetRecordsRequest { SetId = setId, PageSize = 5, PageToken = first.NextPageToken }));

        // A token of format 2 (servers that named a ranking by their own revision counter), as a rolling upgrade meets it.
        var earlierFormat = new byte[41];
        earlierFormat[0] = 2;
        earlierFormat[1] = 10;
        var earlier = Assert.ThrowsAsync<RpcException>(async () => await server.Query.GetRecommendationsAsync(
            new GetRecommendationsRequest { SetId = setId, PageSize = 10, PageToken = System.Buffers.Text.Base64Url.EncodeToString(earlierFormat) }));

        // Assert
        Assert.That((otherCall!.StatusCode, otherQuery!.StatusCode), Is.EqualTo((StatusCode.InvalidArgument, StatusCode.InvalidArgument)));
        Assert.That(otherCall.Status.Detail, Does.Contain("page_token: is a token of another call"));
        Assert.That(otherQuery.Status.Detail, Does.Contain("page_token: was issued for another query"));
        Assert.That(otherSize.Recommendations, Has.Count.EqualTo(7), "the page size may change between pages");
        Assert.That(otherSetAnswer!.Status.Detail, Does.Contain("page_token: was issued for another query (set_id"), "not 'the ranking has been replaced'");
        Assert.That(toGetRecords!.Status.Detail, Does.Contain("page_token: is a token of another call (GetRecommendations)"));
        Assert.That(earlier!.StatusCode, Is.EqualTo(StatusCode.InvalidArgument));
        Assert.That(earlier.Status.Detail, Does.Contain("page_token: was issued by an earlier version of the server"));
    }

    // A set of two classes: `trainingPerClass` labeled training records and `productionPerClass` ordinary production ones each.
    private static async Task<EmbeddingSetDescriptor> TwoClassesAsync(RunningServer server, string model, int trainingPerClass, int productionPerClass, int seed)
    {
        var set = Records.Set(Dimension, model: model);
        var (training, labels) = SyntheticEmbeddings.Clusters(2, trainingPerClass, Dimension, separation: 6, seed: seed);
        var (ordinary, _) = SyntheticEmbeddings.Clusters(2, productionPerClass, Dimension, separation: 6, seed: seed + 1);
        Assert.That((await server.LogAsync(Records.Batch(set, Rows(training, "training", labels)), Records.Batch(set, Rows(ordinary, "production")))).Select(a => a.Error), Has.All.Null);
        return set;
    }

    private static Record[] Rows(float[] embeddings, string dataset, string[]? labels = null) =>
        [.. Enumerable.Range(0, embeddings.Length / Dimension).Select(i => Records.Make(embeddings.AsSpan(i * Dimension, Dimension).ToArray(), dataset, labels?[i]))];

    private static List<string> Ids(GetRecommendationsResponse page) => [.. page.Recommendations.Select(r => r.Record.Record.Id)];

    private static async Task<GetRecommendationsResponse> PageAsync(RunningServer server, EmbeddingSetDescriptor set, bool allScores, int pageSize, string token) =>
        await server.Query.GetRecommendationsAsync(
            new GetRecommendationsRequest { SetId = Records.SetId(set), AllScores = allScores, PageSize = pageSize, PageToken = token, WaitForAcknowledged = true },
            deadline: DateTime.UtcNow + Timeout);
}
