using Chroma.Protocol.V1;
using Chroma.Server.Tests.TestSupport;
using NUnit.Framework;

namespace Chroma.Server.Tests.Services;

/// <summary>
/// wait_through_sequence: "Wait until the ranking covers every record of the set up to this store sequence". Sequences
/// are given out by one counter for every set of a store (and to deletes), so a sequence a client saw in another set
/// (a pipeline that logs each input to two layers, model/v1/fc and model/v1/conv) lies beyond every record of this set
/// stored so far, and every record of this set up to it is already stored. Such a wait waited for this set to reach
/// that sequence itself, which only this set's next records would: it ran out its whole timeout (30 s by default)
/// and answered covers_request = false over a ranking that covered the whole set.
/// </summary>
public class WaitThroughOtherSetSequenceTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);
    private static readonly EmbeddingSetDescriptor SetA = Records.Set(dimension: 4, model: "layer-fc");
    private static readonly EmbeddingSetDescriptor SetB = Records.Set(dimension: 4, model: "layer-conv");

    [Test, CancelAfter(120_000)]
    public async Task GetRecommendations_WaitThroughASequenceOfAnotherSet_CoversAtOnceWhenTheSetIsCovered(CancellationToken cancellationToken)
    {
        // Arrange: set A ranked and current; then a record stored in set B takes a later sequence.
        await using var server = await RunningServer.StartAsync(_ => { });
        var training = Enumerable.Range(0, 12).Select(i => Records.Make([i % 3, i % 4, 1, 0], "training", label: (i % 2).ToString(System.Globalization.CultureInfo.InvariantCulture))).ToArray();
        var production = Enumerable.Range(0, 6).Select(i => Records.Make([i, 1, 0, 2], "production")).ToArray();
        Assert.That((await server.LogAsync(Records.Batch(SetA, [.. training, .. production]))).Select(a => a.Error), Has.All.Null);
        var current = await server.Query.GetRecommendationsAsync(
            new GetRecommendationsRequest { SetId = Records.SetId(SetA), WaitForAcknowledged = true },
            deadline: DateTime.UtcNow + Timeout, cancellationToken: cancellationToken);
        Assert.That(current.CoversRequest, Is.True);
        Assert.That((await server.LogAsync(Records.Batch(SetB, Records.Make([1, 2, 3, 4], "production"))))[0].Error, Is.Null);
        var otherSequence = (await server.Query.GetRecordsAsync(
            new GetRecordsRequest { SetId = Records.SetId(SetB) }, deadline: DateTime.UtcNow + Timeout, cancellationToken: cancellationToken)).Records.Single().Sequence;
        Assert.That(otherSequence, Is.GreaterThan(current.LatestSequence));

        // Act
        var waited = await server.Query.GetRecommendationsAsync(
            new GetRecommendationsRequest { SetId = Records.SetId(SetA), WaitThroughSequence = otherSequence, WaitTimeoutMs = 5_000 },
            deadline: DateTime.UtcNow + Timeout, cancellationToken: cancellationToken);

        // Assert: every record of A up to that sequence is covered.
        Assert.Multiple(() =>
        {
            Assert.That(waited.CoversRequest, Is.True);
            Assert.That(waited.ScoredRecords, Is.EqualTo(production.Length));
        });
    }
}
