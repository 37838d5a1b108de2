using Chroma.Protocol.V1;
using Chroma.Server.Labeling;
using Chroma.Server.Tests.TestSupport;
using NUnit.Framework;

namespace Chroma.Server.Tests.Labeling;

/// <summary>
/// Promotions of the same records at the same time (an outside probe sent three PromoteLabels(all) at once: each answered
/// that it had promoted all 700 records, and every record's trail got three "promote" events): one call marks each
/// record, the others count it as already promoted, and a promotion that read a label since changed marks nothing.
/// </summary>
public class PromotionRaceTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(90);
    private static readonly EmbeddingSetDescriptor Set = Records.Set(dimension: 4);
    private static readonly string SetId = Records.SetId(Set);

    [Test, CancelAfter(30_000)]
    public async Task SavePromotionsAsync_SameCopyTwiceAtOnce_OneCallMarksTheRecordWithOneEvent(CancellationToken cancellationToken)
    {
        // Arrange
        using var folder = new TempDirectory();
        using var store = SqliteReviewStore.Open(folder.Path);
        await store.SaveLabelsAsync(1, [new LabelWrite(3, "r3", "cat", null), new LabelWrite(4, "r4", "dog", null)], "ada", 1_000, cancellationToken);
        PromotionWrite[] writes = [new(3, "copy-3", "cat"), new(4, "copy-4", "dog")];

        // Act
        var marked = await Task.WhenAll(
            store.SavePromotionsAsync(1, writes, "x", 2_000, cancellationToken),
            store.SavePromotionsAsync(1, writes, "y", 2_000, cancellationToken));

        // Assert
        var promotions = store.ReadHistory(1, recordId: null, afterEvent: 0, limit: 100).Where(e => e.Action == "promote").ToArray();
        Assert.Multiple(() =>
        {
            Assert.That(marked.Select(m => m.Count).Order(), Is.EqualTo(new[] { 0, 2 }), "one call marks both records, the other none");
            Assert.That(promotions.Select(e => e.RecordId).Order(), Is.EqualTo(new[] { "r3", "r4" }), "one promote event per record");
            Assert.That(store.Read(1, [3])[3].LabelPromoted, Is.True);
        });
    }

    [Test, CancelAfter(30_000)]
    public async Task SavePromotionsAsync_LabelChangedSinceTheCopyWasMade_MarksNothing(CancellationToken cancellationToken)
    {
        // Arrange: the copy was made from "cat"; the record was relabeled "dog" before the promotion marked it.
        using var folder = new TempDirectory();
        using var store = SqliteReviewStore.Open(folder.Path);
        await store.SaveLabelsAsync(1, [new LabelWrite(3, "r3", "cat", null)], "ada", 1_000, cancellationToken);
        await store.SaveLabelsAsync(1, [new LabelWrite(3, "r3", "dog", null)], "bob", 1_500, cancellationToken);

        // Act
        var stale = await store.SavePromotionsAsync(1, [new PromotionWrite(3, "copy-of-cat", "cat")], "x", 2_000, cancellationToken);
        var current = await store.SavePromotionsAsync(1, [new PromotionWrite(3, "copy-of-dog", "dog")], "x", 3_000, cancellationToken);

        // Assert
        var review = store.Read(1, [3])[3];
        Assert.Multiple(() =>
        {
            Assert.That(stale, Is.Empty);
            Assert.That(current, Is.EquivalentTo(new long[] { 3 }));
            Assert.That(review.PromotedRecordId, Is.EqualTo("copy-of-dog"));
            Assert.That(review.PromotedLabel, Is.EqualTo("dog"));
        });
    }

    [Test, CancelAfter(180_000)]
    public async Task PromoteLabels_FourCallsAtOnce_EachRecordPromotedByOneCallOnceInTrainingAndTrail()
    {
        // Arrange: 300 labeled production records.
        await using var server = await RunningServer.StartAsync();
        var labeling = new Protocol.V1.Labeling.LabelingClient(server.Channel);
        Record[] training = [Records.Make([10, 0, 0, 0], "training", "a"), Records.Make([-10, 0, 0, 0], "training", "b")];
        var production = Enumerable.Range(0, 300).Select(i => Records.Make([i % 7, i / 7, 1, 0], "production")).ToArray();
        var acks = await server.LogAsync([Records.Batch(Set, training), Records.Batch(Set, production)]);
        Assert.That(acks.Select(a => a.Error), Has.All.Null);
        var labels = new LabelRecordsRequest { SetId = SetId, Reviewer = "ada" };
        labels.Labels.AddRange(production.Select(r => new RecordLabel { RecordId = r.Id, Label = "p" }));
        await labeling.LabelRecordsAsync(labels, deadline: Deadline());

        // Act
        var calls = await Task.WhenAll(new[] { "w", "x", "y", "z" }.Select(who =>
            labeling.PromoteLabelsAsync(new PromoteLabelsRequest { SetId = SetId, PromotedBy = who }, deadline: Deadline()).ResponseAsync));

        // Assert
        var trail = new List<Protocol.V1.ReviewEvent>();
        var token = string.Empty;
        do
        {
            var page = await labeling.GetReviewHistoryAsync(new GetReviewHistoryRequest { SetId = SetId, PageSize = 1_000, PageToken = token }, deadline: Deadline());
            trail.AddRange(page.Events);
            token = page.NextPageToken;
        }
        while (token.Length > 0);
        var count = (await server.Query.CountRecordsAsync(new CountRecordsRequest { SetId = SetId, Filter = new RecordFilter { Dataset = "training" } }, deadline: Deadline())).Count;
        var promoted = calls.SelectMany(c => c.Promoted.Select(p => p.RecordId)).ToArray();
        Assert.Multiple(() =>
        {
            Assert.That(promoted, Is.EquivalentTo(production.Select(r => r.Id)), "every record promoted by exactly one call");
            Assert.That(calls.Select(c => c.Promoted.Count + c.AlreadyPromoted), Has.All.EqualTo(300), "each call accounts for every record");
            Assert.That(trail.Count(e => e.Action == "promote"), Is.EqualTo(300), "one promote event per record");
            Assert.That(count, Is.EqualTo(2 + 300), "each copy stored once");
        });
    }

    private static DateTime Deadline() => DateTime.UtcNow + Timeout;
}
