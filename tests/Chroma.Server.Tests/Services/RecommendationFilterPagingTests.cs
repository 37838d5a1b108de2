using Chroma.Protocol.V1;
using Chroma.Server.Tests.Recommendations.Data;
using Chroma.Server.Tests.TestSupport;
using NUnit.Framework;

namespace Chroma.Server.Tests.Services;

/// <summary>
/// Paging a ranking with a metadata filter while records are tagged into or out of the filter: the proto promises
/// that the pages of one listing, joined, never repeat or skip a record. The filter was read from the store on every
/// page, so tagging the records of page 1 out of a "queue = todo" filter (a review workflow: tag what you handled)
/// moved the offset of page 2 past as many records as were tagged, and they were in no page.
/// </summary>
public class RecommendationFilterPagingTests
{
    private const int Dimension = 16;
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);
    private static readonly EmbeddingSetDescriptor Set = Records.Set(Dimension);
    private static readonly string SetId = Records.SetId(Set);
    private static readonly Dictionary<string, string> Todo = new() { ["queue"] = "todo" };

    private static Record[] Rows(float[] embeddings, string dataset, string[]? labels = null, IDictionary<string, string>? metadata = null) =>
        [.. Enumerable.Range(0, embeddings.Length / Dimension).Select(i => Records.Make(embeddings.AsSpan(i * Dimension, Dimension).ToArray(), dataset, labels?[i], metadata))];

    private static async Task<GetRecommendationsResponse> PageAsync(RunningServer server, int pageSize, string token) =>
        await server.Query.GetRecommendationsAsync(
            new GetRecommendationsRequest
            {
                SetId = SetId,
                Diversity = Diversity.Off,
                PageSize = pageSize,
                PageToken = token,
                WaitForAcknowledged = token.Length == 0,
                Filter = new RecordFilter { Dataset = "production", Metadata = { Todo } },
            },
            deadline: DateTime.UtcNow + Timeout);

    [Test, CancelAfter(120_000)]
    public async Task GetRecommendations_FilteredRecordsTaggedOutOfTheFilterBetweenPages_NextPageSkipsNothing(CancellationToken cancellationToken)
    {
        // Arrange: 30 production records in the queue, 10 outside it.
        await using var server = await RunningServer.StartAsync(_ => { });
        var (training, labels) = SyntheticEmbeddings.Clusters(2, 50, Dimension, separation: 6, seed: 1);
        var (queued, _) = SyntheticEmbeddings.Clusters(2, 15, Dimension, separation: 6, seed: 2);
        var (other, _) = SyntheticEmbeddings.Clusters(2, 5, Dimension, separation: 6, seed: 3);
        var acks = await server.LogAsync(
            Records.Batch(Set, Rows(training, "training", labels)),
            Records.Batch(Set, [.. Rows(queued, "production", metadata: Todo), .. Rows(other, "production")]));
        Assert.That(acks.Select(a => a.Error), Has.All.Null);
        var whole = (await PageAsync(server, 100, "")).Recommendations.Select(r => r.Record.Record.Id).ToList();
        Assert.That(whole, Has.Count.EqualTo(30));

        // Act: page 1, the reviewer tags its records as handled (out of the filter), then page 2 with the token.
        var first = await PageAsync(server, 5, "");
        var firstIds = first.Recommendations.Select(r => r.Record.Record.Id).ToList();
        await server.Query.TagRecordsAsync(
            new TagRecordsRequest { SetId = SetId, Ids = { firstIds }, Tags = { ["queue"] = "done" } },
            deadline: DateTime.UtcNow + Timeout,
            cancellationToken: cancellationToken);
        var second = await PageAsync(server, 5, first.NextPageToken);
        var secondIds = second.Recommendations.Select(r => r.Record.Record.Id).ToList();

        // Assert: the two pages joined are the first ten of the listing.
        Assert.Multiple(() =>
        {
            Assert.That(firstIds, Is.EqualTo(whole.Take(5)));
            Assert.That(firstIds.Concat(secondIds), Is.EqualTo(whole.Take(10)), "page 2 goes on where page 1 ended");
        });
    }
}
