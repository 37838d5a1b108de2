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
        PromotionWrite[] writes = [new(3, "copy-3", "cat", null), new(4, "copy-4", "dog", null)];

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
        var stale = await store.SavePromotionsAsync(1, [new PromotionWrite(3, "copy-of-cat", "cat", null)], "x", 2_000, cancellationToken);
        var current = await store.SavePromotionsAsync(1, [new PromotionWrite(3, "copy-of-dog", "dog", null)], "x", 3_000, cancellationToken);

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

    [Test, CancelAfter(30_000)]
    public async Task SavePromotionsAsync_AnotherPromotionReplacedTheCopyReadWhenTheCopyWasMade_MarksNothing(CancellationToken cancellationToken)
    {
        // Arrange (probe R's second copy in training): "cat" is promoted as copy-1. A promotion that read the review before
        // that made its copy of the same label (then still unpromoted, previous copy none).
        using var folder = new TempDirectory();
        using var store = SqliteReviewStore.Open(folder.Path);
        await store.SaveLabelsAsync(1, [new LabelWrite(3, "r3", "cat", null)], "ada", 1_000, cancellationToken);
        var first = await store.SavePromotionsAsync(1, [new PromotionWrite(3, "copy-1", "cat", null)], "x", 2_000, cancellationToken);

        // Act
        var late = await store.SavePromotionsAsync(1, [new PromotionWrite(3, "copy-2", "cat", null)], "y", 3_000, cancellationToken);
        var next = await store.SavePromotionsAsync(1, [new PromotionWrite(3, "copy-3", "cat", "copy-1")], "z", 4_000, cancellationToken);

        // Assert
        Assert.Multiple(() =>
        {
            Assert.That((first.Count, late.Count, next.Count), Is.EqualTo((1, 0, 1)), "marked only while the review names the copy read");
            Assert.That(store.Read(1, [3])[3].PromotedRecordId, Is.EqualTo("copy-3"));
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

    [Test, CancelAfter(60_000)]
    public async Task PromoteLabels_TrainingCopyDeleted_PromotedAgainUnderANewIdNotCountedAsAlreadyPromoted()
    {
        // Arrange: one record labeled and promoted; its training copy deleted (by hand, as a probe did, or by a promotion
        // that raced a relabel back to this label, below).
        await using var server = await RunningServer.StartAsync();
        var labeling = new Protocol.V1.Labeling.LabelingClient(server.Channel);
        var record = await LabeledAsync(server, labeling, "cat");
        var first = await labeling.PromoteLabelsAsync(new PromoteLabelsRequest { SetId = SetId, PromotedBy = "ada" }, deadline: Deadline());
        var deleted = await server.Query.DeleteRecordsAsync(new DeleteRecordsRequest { SetId = SetId, Ids = { first.Promoted[0].TrainingRecordId } }, deadline: Deadline());

        // Act
        var again = await labeling.PromoteLabelsAsync(new PromoteLabelsRequest { SetId = SetId, PromotedBy = "ada" }, deadline: Deadline());
        var third = await labeling.PromoteLabelsAsync(new PromoteLabelsRequest { SetId = SetId, PromotedBy = "ada" }, deadline: Deadline());

        // Assert
        var copies = await TrainingCopiesAsync(server, record.Id);
        Assert.Multiple(() =>
        {
            Assert.That(deleted.Deleted, Is.EqualTo(1));
            Assert.That((again.Promoted.Count, again.AlreadyPromoted), Is.EqualTo((1, 0L)), "a label whose copy is gone is not in training");
            Assert.That(again.Promoted[0].TrainingRecordId, Is.Not.EqualTo(first.Promoted[0].TrainingRecordId), "the deleted id stays deleted");
            Assert.That(copies, Is.EqualTo(new[] { (again.Promoted[0].TrainingRecordId, "cat") }));
            Assert.That((third.Promoted.Count, third.AlreadyPromoted), Is.EqualTo((0, 1L)));
        });
    }

    [Test, CancelAfter(60_000)]
    public async Task PromoteLabels_AfterARelabelBackWhoseRacingPromotionDeletedTheCopy_PromotedAgain()
    {
        // Arrange: the end state probe R reached with promotions racing relabels: "cat" promoted; relabeled "dog", a
        // promotion of "dog" deleted the "cat" copy; relabeled "cat" before that promotion marked the review, so the
        // review still names the deleted "cat" copy and its label is "cat" again.
        await using var server = await RunningServer.StartAsync();
        var labeling = new Protocol.V1.Labeling.LabelingClient(server.Channel);
        var record = await LabeledAsync(server, labeling, "cat");
        var first = await labeling.PromoteLabelsAsync(new PromoteLabelsRequest { SetId = SetId, PromotedBy = "ada" }, deadline: Deadline());
        await LabelAsync(labeling, record, "dog");
        await server.Query.DeleteRecordsAsync(new DeleteRecordsRequest { SetId = SetId, Ids = { first.Promoted[0].TrainingRecordId } }, deadline: Deadline());
        await LabelAsync(labeling, record, "cat");

        // Act
        var again = await labeling.PromoteLabelsAsync(new PromoteLabelsRequest { SetId = SetId, PromotedBy = "bob" }, deadline: Deadline());

        // Assert
        Assert.Multiple(async () =>
        {
            Assert.That((again.Promoted.Count, again.AlreadyPromoted), Is.EqualTo((1, 0L)));
            Assert.That(await TrainingCopiesAsync(server, record.Id), Is.EqualTo(new[] { (again.Promoted[0].TrainingRecordId, "cat") }));
        });
    }

    private static async Task<Record> LabeledAsync(RunningServer server, Protocol.V1.Labeling.LabelingClient labeling, string label)
    {
        Record[] training = [Records.Make([10, 0, 0, 0], "training", "cat"), Records.Make([-10, 0, 0, 0], "training", "dog")];
        var record = Records.Make([1, 2, 3, 0], "production");
        var acks = await server.LogAsync([Records.Batch(Set, [.. training, record])]);
        Assert.That(acks.Select(a => a.Error), Has.All.Null);
        await LabelAsync(labeling, record, label);
        return record;
    }

    private static async Task LabelAsync(Protocol.V1.Labeling.LabelingClient labeling, Record record, string label)
    {
        // Labels carry the time they were given (ms): a relabel within the same millisecond would keep the copy's id.
        await Task.Delay(5);
        await labeling.LabelRecordsAsync(
            new LabelRecordsRequest { SetId = SetId, Reviewer = "ada", Labels = { new RecordLabel { RecordId = record.Id, Label = label } } }, deadline: Deadline());
    }

    private static async Task<(string Id, string Label)[]> TrainingCopiesAsync(RunningServer server, string recordId)
    {
        var page = await server.Query.GetRecordsAsync(
            new GetRecordsRequest { SetId = SetId, Filter = new RecordFilter { Dataset = "training" }, PageSize = 100 }, deadline: Deadline());
        return [.. page.Records
            .Where(r => r.Record.Metadata.TryGetValue(LabelingService.PromotedFromKey, out var from) && string.Equals(from, recordId.ToLowerInvariant(), StringComparison.Ordinal))
            .Select(r => (r.Record.Id, r.Record.Label))];
    }

    private static DateTime Deadline() => DateTime.UtcNow + Timeout;
}
