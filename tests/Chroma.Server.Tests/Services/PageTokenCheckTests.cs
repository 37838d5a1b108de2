using System.Buffers.Text;
using Chroma.Protocol.V1;
using Chroma.Server.Tests.Recommendations.Data;
using Chroma.Server.Tests.TestSupport;
using Grpc.Core;
using NUnit.Framework;

namespace Chroma.Server.Tests.Services;

/// <summary>
/// Every page token carries a check and the call and query it was issued for: an outside probe flipped one byte of a
/// GetRecommendations token and got an empty last page (the rest of the listing silently missed), cut a GetRecords
/// token and got an empty final page, and used a GetRecords token with another set, another filter, GetLabeledRecords
/// and GetReviewHistory without a word. Each now answers InvalidArgument naming page_token and saying why.
/// </summary>
public class PageTokenCheckTests
{
    private const int Dimension = 8;
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);
    private static readonly EmbeddingSetDescriptor Set = Records.Set(Dimension, model: "tokens");
    private static readonly EmbeddingSetDescriptor OtherSet = Records.Set(Dimension, model: "tokens-other");
    private static readonly string SetId = Records.SetId(Set);

    [Test]
    [CancelAfter(60_000)]
    public async Task GetRecords_EveryByteOfTheTokenFlippedOrTheTokenCut_InvalidArgumentNotAnEmptyPage()
    {
        // Arrange
        await using var server = await StartAsync();
        var token = (await server.Query.GetRecordsAsync(new GetRecordsRequest { SetId = SetId, PageSize = 10 }, deadline: Deadline())).NextPageToken;

        // Act
        var answers = new List<(string Case, StatusCode Code, string Detail)>();
        foreach (var (name, bad) in Damaged(token))
        {
            var error = Assert.ThrowsAsync<RpcException>(async () => await server.Query.GetRecordsAsync(
                new GetRecordsRequest { SetId = SetId, PageSize = 10, PageToken = bad }, deadline: Deadline()), name);
            answers.Add((name, error!.StatusCode, error.Status.Detail));
        }

        // Assert
        Assert.That(answers, Has.Count.GreaterThan(20));
        Assert.That(answers.Where(a => a.Code != StatusCode.InvalidArgument || !a.Detail.StartsWith("page_token: ", StringComparison.Ordinal)), Is.Empty);
        Assert.That(answers.Single(a => a.Case == "byte 12 flipped").Detail, Does.StartWith("page_token: is damaged"));
    }

    [Test]
    [CancelAfter(120_000)]
    public async Task GetRecommendations_EveryByteOfTheTokenFlippedOrTheTokenCut_InvalidArgumentNotAnEmptyPage()
    {
        // Arrange: a ranked set.
        await using var server = await StartAsync();
        var first = await server.Query.GetRecommendationsAsync(
            new GetRecommendationsRequest { SetId = SetId, PageSize = 5, AllScores = true, WaitForAcknowledged = true }, deadline: Deadline());
        Assert.That(first.NextPageToken, Is.Not.Empty);

        // Act
        var answers = new List<(string Case, StatusCode Code, string Detail)>();
        foreach (var (name, bad) in Damaged(first.NextPageToken))
        {
            var error = Assert.ThrowsAsync<RpcException>(async () => await server.Query.GetRecommendationsAsync(
                new GetRecommendationsRequest { SetId = SetId, PageSize = 5, AllScores = true, PageToken = bad }, deadline: Deadline()), name);
            answers.Add((name, error!.StatusCode, error.Status.Detail));
        }

        // Assert
        Assert.That(answers, Has.Count.GreaterThan(40));
        Assert.That(answers.Where(a => a.Code != StatusCode.InvalidArgument || !a.Detail.StartsWith("page_token: ", StringComparison.Ordinal)), Is.Empty);
        Assert.That(answers.Single(a => a.Case == "byte 12 flipped").Detail, Does.StartWith("page_token: is damaged"));
    }

    [Test]
    [CancelAfter(60_000)]
    public async Task GetRecords_TokenOfAnotherSetOrFilter_InvalidArgumentAnotherQuery()
    {
        // Arrange
        await using var server = await StartAsync();
        var token = (await server.Query.GetRecordsAsync(new GetRecordsRequest { SetId = SetId, PageSize = 5 }, deadline: Deadline())).NextPageToken;
        var filtered = (await server.Query.GetRecordsAsync(
            new GetRecordsRequest { SetId = SetId, PageSize = 5, Filter = new RecordFilter { Dataset = "training" } }, deadline: Deadline())).NextPageToken;

        // Act
        var otherSet = Assert.ThrowsAsync<RpcException>(async () => await server.Query.GetRecordsAsync(
            new GetRecordsRequest { SetId = Records.SetId(OtherSet), PageSize = 5, PageToken = token }, deadline: Deadline()));
        var otherFilter = Assert.ThrowsAsync<RpcException>(async () => await server.Query.GetRecordsAsync(
            new GetRecordsRequest { SetId = SetId, PageSize = 5, PageToken = token, Filter = new RecordFilter { Dataset = "training" } }, deadline: Deadline()));
        var otherMetadata = Assert.ThrowsAsync<RpcException>(async () => await server.Query.GetRecordsAsync(
            new GetRecordsRequest { SetId = SetId, PageSize = 5, PageToken = filtered, Filter = new RecordFilter { Dataset = "training", Metadata = { ["parity"] = "odd" } } }, deadline: Deadline()));
        var noFilter = Assert.ThrowsAsync<RpcException>(async () => await server.Query.GetRecordsAsync(
            new GetRecordsRequest { SetId = SetId, PageSize = 5, PageToken = filtered }, deadline: Deadline()));

        // Assert
        foreach (var error in new[] { otherSet, otherFilter, otherMetadata, noFilter })
        {
            Assert.That(error!.StatusCode, Is.EqualTo(StatusCode.InvalidArgument));
            Assert.That(error.Status.Detail, Does.StartWith("page_token: was issued for another query (set_id or filter differ)"));
        }
    }

    [Test]
    [CancelAfter(60_000)]
    public async Task PageToken_OfAnotherCall_InvalidArgumentNamingTheCall()
    {
        // Arrange: tokens of all four listings.
        await using var server = await StartAsync();
        var labeling = new Protocol.V1.Labeling.LabelingClient(server.Channel);
        await LabelAsync(server, labeling, 6);
        var records = (await server.Query.GetRecordsAsync(new GetRecordsRequest { SetId = SetId, PageSize = 5 }, deadline: Deadline())).NextPageToken;
        var labeled = (await labeling.GetLabeledRecordsAsync(new GetLabeledRecordsRequest { SetId = SetId, PageSize = 2 }, deadline: Deadline())).NextPageToken;
        var history = (await labeling.GetReviewHistoryAsync(new GetReviewHistoryRequest { SetId = SetId, PageSize = 2 }, deadline: Deadline())).NextPageToken;
        var ranking = (await server.Query.GetRecommendationsAsync(
            new GetRecommendationsRequest { SetId = SetId, PageSize = 2, AllScores = true, IncludeReviewed = true, WaitForAcknowledged = true }, deadline: Deadline())).NextPageToken;

        // Act
        async Task<string> Refusal(Func<Task> call)
        {
            var error = Assert.ThrowsAsync<RpcException>(async () => await call());
            Assert.That(error!.StatusCode, Is.EqualTo(StatusCode.InvalidArgument));
            return error.Status.Detail;
        }

        string[] refusals =
        [
            await Refusal(() => labeling.GetLabeledRecordsAsync(new GetLabeledRecordsRequest { SetId = SetId, PageToken = records }, deadline: Deadline()).ResponseAsync),
            await Refusal(() => labeling.GetReviewHistoryAsync(new GetReviewHistoryRequest { SetId = SetId, PageToken = records }, deadline: Deadline()).ResponseAsync),
            await Refusal(() => server.Query.GetRecordsAsync(new GetRecordsRequest { SetId = SetId, PageToken = labeled }, deadline: Deadline()).ResponseAsync),
            await Refusal(() => labeling.GetReviewHistoryAsync(new GetReviewHistoryRequest { SetId = SetId, PageToken = labeled }, deadline: Deadline()).ResponseAsync),
            await Refusal(() => labeling.GetLabeledRecordsAsync(new GetLabeledRecordsRequest { SetId = SetId, PageToken = history }, deadline: Deadline()).ResponseAsync),
            await Refusal(() => server.Query.GetRecommendationsAsync(new GetRecommendationsRequest { SetId = SetId, PageToken = history }, deadline: Deadline()).ResponseAsync),
            await Refusal(() => server.Query.GetRecordsAsync(new GetRecordsRequest { SetId = SetId, PageToken = ranking }, deadline: Deadline()).ResponseAsync),
            await Refusal(() => labeling.GetReviewHistoryAsync(new GetReviewHistoryRequest { SetId = SetId, PageToken = ranking }, deadline: Deadline()).ResponseAsync),
        ];

        // Assert
        Assert.That(refusals, Is.EqualTo(new[]
        {
            "page_token: is a token of another call (GetRecords); pass the next_page_token of a GetLabeledRecords response with the same request",
            "page_token: is a token of another call (GetRecords); pass the next_page_token of a GetReviewHistory response with the same request",
            "page_token: is a token of another call (GetLabeledRecords); pass the next_page_token of a GetRecords response with the same request",
            "page_token: is a token of another call (GetLabeledRecords); pass the next_page_token of a GetReviewHistory response with the same request",
            "page_token: is a token of another call (GetReviewHistory); pass the next_page_token of a GetLabeledRecords response with the same request",
            "page_token: is a token of another call (GetReviewHistory); pass the next_page_token of a GetRecommendations response with the same request",
            "page_token: is a token of another call (GetRecommendations); pass the next_page_token of a GetRecords response with the same request",
            "page_token: is a token of another call (GetRecommendations); pass the next_page_token of a GetReviewHistory response with the same request",
        }));
    }

    [Test]
    [CancelAfter(60_000)]
    public async Task LabelingTokens_OfAnotherSetOrRecord_InvalidArgumentAnotherQuery()
    {
        // Arrange: reviews in both sets, three events on one record.
        await using var server = await StartAsync();
        var labeling = new Protocol.V1.Labeling.LabelingClient(server.Channel);
        var labeledIds = await LabelAsync(server, labeling, 4);
        var otherSetId = Records.SetId(OtherSet);
        var other = (await server.Query.GetRecordsAsync(new GetRecordsRequest { SetId = otherSetId, PageSize = 1, Filter = new RecordFilter { Dataset = "production" } }, deadline: Deadline())).Records[0];
        await labeling.LabelRecordsAsync(new LabelRecordsRequest { SetId = otherSetId, Reviewer = "ada", Labels = { new RecordLabel { RecordId = other.Record.Id, Label = "a" } } }, deadline: Deadline());
        await labeling.LabelRecordsAsync(new LabelRecordsRequest { SetId = SetId, Reviewer = "bob", Labels = { new RecordLabel { RecordId = labeledIds[0], Label = "b" } } }, deadline: Deadline());
        var labeled = (await labeling.GetLabeledRecordsAsync(new GetLabeledRecordsRequest { SetId = SetId, PageSize = 1 }, deadline: Deadline())).NextPageToken;
        var recordHistory = (await labeling.GetReviewHistoryAsync(new GetReviewHistoryRequest { SetId = SetId, RecordId = labeledIds[0], PageSize = 1 }, deadline: Deadline())).NextPageToken;

        // Act
        var labeledOtherSet = Assert.ThrowsAsync<RpcException>(async () => await labeling.GetLabeledRecordsAsync(
            new GetLabeledRecordsRequest { SetId = otherSetId, PageToken = labeled }, deadline: Deadline()));
        var historyOtherRecord = Assert.ThrowsAsync<RpcException>(async () => await labeling.GetReviewHistoryAsync(
            new GetReviewHistoryRequest { SetId = SetId, RecordId = labeledIds[1], PageToken = recordHistory }, deadline: Deadline()));
        var historyWholeSet = Assert.ThrowsAsync<RpcException>(async () => await labeling.GetReviewHistoryAsync(
            new GetReviewHistoryRequest { SetId = SetId, PageToken = recordHistory }, deadline: Deadline()));
        var sameRecordUpperCase = await labeling.GetReviewHistoryAsync(
            new GetReviewHistoryRequest { SetId = SetId, RecordId = labeledIds[0].ToUpperInvariant(), PageToken = recordHistory }, deadline: Deadline());

        // Assert
        Assert.That((labeledOtherSet!.StatusCode, labeledOtherSet.Status.Detail), Is.EqualTo((StatusCode.InvalidArgument,
            "page_token: was issued for another query (set_id differ); ask for the next page with the first page's query, or start again without a token")));
        foreach (var error in new[] { historyOtherRecord, historyWholeSet })
        {
            Assert.That((error!.StatusCode, error.Status.Detail), Is.EqualTo((StatusCode.InvalidArgument,
                "page_token: was issued for another query (set_id or record_id differ); ask for the next page with the first page's query, or start again without a token")));
        }

        Assert.That(sameRecordUpperCase.Events.Select(e => e.Detail), Is.EqualTo(new[] { "b" }), "the same record, written in upper case, is the same query");
    }

    [Test]
    [CancelAfter(60_000)]
    public async Task PageToken_OfTheServerBeforeTheCheck_InvalidArgumentStartAgain()
    {
        // Arrange: a token of format 1 (the sequence listings' tokens before the check): a format byte and a sequence.
        await using var server = await StartAsync();
        var earlier = new byte[9];
        earlier[0] = 1;
        earlier[1] = 5;
        var token = Base64Url.EncodeToString(earlier);

        // Act
        var error = Assert.ThrowsAsync<RpcException>(async () => await server.Query.GetRecordsAsync(
            new GetRecordsRequest { SetId = SetId, PageToken = token }, deadline: Deadline()));

        // Assert
        Assert.That(error!.StatusCode, Is.EqualTo(StatusCode.InvalidArgument));
        Assert.That(error.Status.Detail, Does.StartWith("page_token: was issued by an earlier version of the server"));
    }

    [Test]
    [CancelAfter(120_000)]
    public async Task Paging_EveryListingToTheEnd_EachRecordOrEventOnceAndNothingMissed()
    {
        // Arrange
        await using var server = await StartAsync();
        var labeling = new Protocol.V1.Labeling.LabelingClient(server.Channel);
        var labeledIds = await LabelAsync(server, labeling, 7);
        var filter = new RecordFilter { Dataset = "training", Metadata = { ["parity"] = "odd" } };
        var expectedFiltered = await server.Query.CountRecordsAsync(new CountRecordsRequest { SetId = SetId, Filter = filter }, deadline: Deadline());
        var expectedAll = await server.Query.CountRecordsAsync(new CountRecordsRequest { SetId = SetId }, deadline: Deadline());

        // Act
        var filtered = await AllAsync<GetRecordsResponse>(
            t => server.Query.GetRecordsAsync(new GetRecordsRequest { SetId = SetId, PageSize = 3, Filter = filter, PageToken = t }, deadline: Deadline()).ResponseAsync,
            r => r.NextPageToken, r => r.Records.Select(x => x.Record.Id));
        var all = await AllAsync<GetRecordsResponse>(
            t => server.Query.GetRecordsAsync(new GetRecordsRequest { SetId = SetId, PageSize = 7, PageToken = t }, deadline: Deadline()).ResponseAsync,
            r => r.NextPageToken, r => r.Records.Select(x => x.Record.Id));
        var labeled = await AllAsync<GetLabeledRecordsResponse>(
            t => labeling.GetLabeledRecordsAsync(new GetLabeledRecordsRequest { SetId = SetId, PageSize = 2, PageToken = t }, deadline: Deadline()).ResponseAsync,
            r => r.NextPageToken, r => r.Records.Select(x => x.Record.Id));
        var history = await AllAsync<GetReviewHistoryResponse>(
            t => labeling.GetReviewHistoryAsync(new GetReviewHistoryRequest { SetId = SetId, PageSize = 2, PageToken = t }, deadline: Deadline()).ResponseAsync,
            r => r.NextPageToken, r => r.Events.Select(e => e.RecordId));
        var ranking = await AllAsync<GetRecommendationsResponse>(
            t => server.Query.GetRecommendationsAsync(new GetRecommendationsRequest { SetId = SetId, PageSize = 4, AllScores = true, IncludeReviewed = true, PageToken = t, WaitForAcknowledged = t.Length == 0 }, deadline: Deadline()).ResponseAsync,
            r => r.NextPageToken, r => r.Recommendations.Select(x => x.Record.Record.Id));
        var production = await server.Query.CountRecordsAsync(new CountRecordsRequest { SetId = SetId, Filter = new RecordFilter { Dataset = "production" } }, deadline: Deadline());

        // Assert
        Assert.Multiple(() =>
        {
            Assert.That(filtered, Has.Count.EqualTo(expectedFiltered.Count).And.Unique);
            Assert.That(all, Has.Count.EqualTo(expectedAll.Count).And.Unique);
            Assert.That(labeled, Is.EquivalentTo(labeledIds));
            Assert.That(history, Is.EqualTo(labeledIds));
            Assert.That(ranking, Has.Count.EqualTo(production.Count).And.Unique);
        });
    }

    private static DateTime Deadline() => DateTime.UtcNow + Timeout;

    // Two sets, each of 60 training records of two classes and 20 production records, with parity metadata.
    private static async Task<RunningServer> StartAsync()
    {
        var server = await RunningServer.StartAsync();
        var acks = await server.LogAsync(Seed(Set, seed: 1), Seed(OtherSet, seed: 3));
        Assert.That(acks.Select(a => a.Error), Has.All.Null);
        return server;
    }

    private static LogBatch Seed(EmbeddingSetDescriptor set, int seed)
    {
        var (training, labels) = SyntheticEmbeddings.Clusters(2, 30, Dimension, separation: 6, seed: seed);
        var (production, _) = SyntheticEmbeddings.Clusters(2, 10, Dimension, separation: 6, seed: seed + 1);
        Record Row(float[] embeddings, int i, string dataset, string? label) => Records.Make(
            embeddings.AsSpan(i * Dimension, Dimension).ToArray(), dataset, label, new Dictionary<string, string> { ["parity"] = i % 2 == 0 ? "even" : "odd" });
        return Records.Batch(
            set,
            [.. Enumerable.Range(0, 60).Select(i => Row(training, i, "training", labels[i])), .. Enumerable.Range(0, 20).Select(i => Row(production, i, "production", null))]);
    }

    // Labels the first `count` production records of the set, one call each; returns their ids in order.
    private static async Task<List<string>> LabelAsync(RunningServer server, Protocol.V1.Labeling.LabelingClient labeling, int count)
    {
        var production = await server.Query.GetRecordsAsync(
            new GetRecordsRequest { SetId = SetId, PageSize = count, Filter = new RecordFilter { Dataset = "production" } }, deadline: Deadline());
        var ids = production.Records.Select(r => r.Record.Id).ToList();
        Assert.That(ids, Has.Count.EqualTo(count));
        foreach (var id in ids)
        {
            await labeling.LabelRecordsAsync(new LabelRecordsRequest { SetId = SetId, Reviewer = "ada", Labels = { new RecordLabel { RecordId = id, Label = "a" } } }, deadline: Deadline());
        }

        return ids;
    }

    private static async Task<List<string>> AllAsync<TPage>(Func<string, Task<TPage>> page, Func<TPage, string> next, Func<TPage, IEnumerable<string>> items)
    {
        var all = new List<string>();
        var token = string.Empty;
        for (var pages = 0; pages < 100; pages++)
        {
            var response = await page(token);
            all.AddRange(items(response));
            token = next(response);
            if (token.Length == 0)
            {
                return all;
            }
        }

        throw new AssertionException("the listing did not end within 100 pages");
    }

    // The token with each decoded byte flipped in turn, and cut short by one and by two characters.
    private static IEnumerable<(string Case, string Token)> Damaged(string token)
    {
        var bytes = Base64Url.DecodeFromChars(token);
        for (var i = 0; i < bytes.Length; i++)
        {
            var copy = (byte[])bytes.Clone();
            copy[i] ^= 0x01;
            yield return ($"byte {i} flipped", Base64Url.EncodeToString(copy));
        }

        yield return ("last character cut", token[..^1]);
        yield return ("last two characters cut", token[..^2]);

        // The last character's top bit always carries data (its low bits may be padding a decoder ignores).
        const string Alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        yield return ("last character changed", token[..^1] + Alphabet[Alphabet.IndexOf(token[^1], StringComparison.Ordinal) ^ 0x20]);

        // Other spellings of the same bytes, which a lenient decoder reads as the token itself: one token, one spelling.
        yield return ("last character's lowest bit changed", token[..^1] + Alphabet[Alphabet.IndexOf(token[^1], StringComparison.Ordinal) ^ 0x01]);
        yield return ("padded", token + new string('=', (4 - (token.Length % 4)) % 4 is 0 ? 4 : (4 - (token.Length % 4)) % 4));
        yield return ("space inside", token[..4] + " " + token[4..]);
    }
}
