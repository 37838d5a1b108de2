using Chroma.Server.Labeling;
using Chroma.Server.Storage;

namespace Chroma.Server.Tests.Storage;

/// <summary>
/// The labeling loop's reviews on PostgreSQL, as two replicas (two stores on one database) see them: what one writes,
/// the other reads (labels, review states, promotions, the audit trail), and the revision tells it that its cache is stale.
/// </summary>
[TestFixture]
[Category("postgres")]
public sealed class PostgresReviewStoreTests : PostgresReplicaPairTest
{
    private IReviewStore ReviewsOf(RecordStorage replica) => replica.Reviews ?? throw new AssertionException("PostgreSQL keeps the reviews in the database");

    [Test, CancelAfter(60_000)]
    public async Task SaveLabelsAsync_ThroughOneReplica_TheOtherReadsLabelStateAndTrail(CancellationToken cancellationToken)
    {
        // Arrange
        var set = await SeedAsync();
        var records = A.Records.GetRecordsBySequence(set, [3, 4], includeEmbeddings: false);
        var revisionBefore = ReviewsOf(B).Revision(set.Key);

        // Act
        var labeled = await ReviewsOf(A).SaveLabelsAsync(
            set.Key, [new LabelWrite(3, records[0].Record.Id, "cat", "blurry"), new LabelWrite(4, records[1].Record.Id, "dog", null)], "ada", 1_000, cancellationToken);
        var dismissed = await ReviewsOf(B).SaveStateAsync(set.Key, [(5, "r5")], ReviewState.Dismissed, "bob", 2_000, cancellationToken);
        await ReviewsOf(B).SavePromotionsAsync(set.Key, [new PromotionWrite(3, "copy-of-3", "cat", null)], "bob", 3_000, cancellationToken);

        // Assert
        var onB = ReviewsOf(B).Read(set.Key, [3, 4, 5, 6]);
        var history = ReviewsOf(A).ReadHistory(set.Key, recordId: null, afterEvent: 0, limit: 10);
        Assert.Multiple(() =>
        {
            Assert.That(labeled, Is.EqualTo(2));
            Assert.That(dismissed, Is.EqualTo(1));
            Assert.That(onB.Keys, Is.EquivalentTo(new long[] { 3, 4, 5 }), "a record nobody reviewed is left out");
            Assert.That(onB[3].Label, Is.EqualTo("cat"));
            Assert.That(onB[3].Note, Is.EqualTo("blurry"));
            Assert.That(onB[3].LabeledBy, Is.EqualTo("ada"));
            Assert.That(onB[3].State, Is.EqualTo(ReviewState.Reviewed), "a label marks its record reviewed");
            Assert.That(onB[3].PromotedRecordId, Is.EqualTo("copy-of-3"));
            Assert.That(onB[5].State, Is.EqualTo(ReviewState.Dismissed));
            Assert.That(ReviewsOf(A).ReadReviewedSequences(set.Key), Is.EquivalentTo(new long[] { 3, 4, 5 }));
            Assert.That(ReviewsOf(A).ReadLabeled(set.Key, afterSequence: 0, limit: 10).Select(r => r.Sequence), Is.EqualTo(new long[] { 3, 4 }));
            Assert.That(history.Select(e => (e.Action, e.Actor)), Is.EqualTo(new[] { ("label", "ada"), ("label", "ada"), ("dismiss", "bob"), ("promote", "bob") }));
            Assert.That(ReviewsOf(B).ReadHistory(set.Key, records[1].Record.Id, 0, 10).Single().Detail, Is.EqualTo("dog"));
            Assert.That(ReviewsOf(B).Revision(set.Key), Is.EqualTo(revisionBefore + 3), "each write through either replica counts");
        });
    }

    [Test, CancelAfter(60_000)]
    public async Task SavePromotionsAsync_BothReplicasAtOnce_OneMarksTheRecordAndAStaleLabelMarksNothing(CancellationToken cancellationToken)
    {
        // Arrange: record 3 labeled "cat", record 4 labeled "cat" then "dog".
        var set = await SeedAsync();
        var ids = A.Records.GetRecordsBySequence(set, [3, 4], includeEmbeddings: false).Select(r => r.Record.Id).ToArray();
        await ReviewsOf(A).SaveLabelsAsync(set.Key, [new LabelWrite(3, ids[0], "cat", null), new LabelWrite(4, ids[1], "cat", null)], "ada", 1_000, cancellationToken);
        await ReviewsOf(A).SaveLabelsAsync(set.Key, [new LabelWrite(4, ids[1], "dog", null)], "ada", 1_500, cancellationToken);
        PromotionWrite[] writes = [new(3, "copy-of-3", "cat", null), new(4, "copy-of-4-cat", "cat", null)];

        // Act
        var marked = await Task.WhenAll(
            ReviewsOf(A).SavePromotionsAsync(set.Key, writes, "x", 2_000, cancellationToken),
            ReviewsOf(B).SavePromotionsAsync(set.Key, writes, "y", 2_000, cancellationToken));

        // Assert
        var promotions = ReviewsOf(A).ReadHistory(set.Key, recordId: null, afterEvent: 0, limit: 100).Where(e => e.Action == "promote").ToArray();
        var reviews = ReviewsOf(B).Read(set.Key, [3, 4]);
        Assert.Multiple(() =>
        {
            Assert.That(marked.Select(m => m.Count).Order(), Is.EqualTo(new[] { 0, 1 }), "one replica marks record 3; nobody marks 4's stale label");
            Assert.That(promotions.Select(e => e.RecordId), Is.EqualTo(new[] { ids[0] }));
            Assert.That(reviews[3].LabelPromoted, Is.True);
            Assert.That(reviews[4].PromotedRecordId, Is.Null);
        });
    }

    [Test, CancelAfter(60_000)]
    public async Task RestoreAsync_ThroughTheOtherReplica_EarlierLabelBackAndNewReviewGone(CancellationToken cancellationToken)
    {
        // Arrange: 3 labeled "old" through A; then A labels 3 "new" and 4 "x" (4 had no review).
        var set = await SeedAsync();
        var ids = A.Records.GetRecordsBySequence(set, [3, 4], includeEmbeddings: false).Select(r => r.Record.Id).ToArray();
        await ReviewsOf(A).SaveLabelsAsync(set.Key, [new LabelWrite(3, ids[0], "old", "first look")], "ada", 1_000, cancellationToken);
        var before = ReviewsOf(A).Read(set.Key, [3, 4]);
        await ReviewsOf(A).SaveLabelsAsync(set.Key, [new LabelWrite(3, ids[0], "new", null), new LabelWrite(4, ids[1], "x", null)], "bob", 2_000, cancellationToken);

        // Act: B puts both back as they were.
        await ReviewsOf(B).RestoreAsync(set.Key, [new ReviewSnapshot(3, ids[0], before[3]), new ReviewSnapshot(4, ids[1], null)], "studio", 3_000, cancellationToken);

        // Assert
        var after = ReviewsOf(A).Read(set.Key, [3, 4]);
        Assert.Multiple(() =>
        {
            Assert.That(after.Keys, Is.EqualTo(new long[] { 3 }), "the record that had no review has none again");
            Assert.That(after[3], Is.EqualTo(before[3]), "the earlier label, note, reviewer and times");
            Assert.That(ReviewsOf(A).ReadHistory(set.Key, ids[1], 0, 10).Select(e => (e.Action, e.Actor)), Is.EqualTo(new[] { ("label", "bob"), ("undo", "studio") }));
        });
    }

    [Test, CancelAfter(60_000)]
    public async Task SaveLabelsAsync_SameRecordThroughBothReplicasAtOnce_BothReadTheSameLastLabel(CancellationToken cancellationToken)
    {
        // Arrange
        var set = await SeedAsync();
        var id = A.Records.GetRecordsBySequence(set, [7], includeEmbeddings: false)[0].Record.Id;

        // Act: 20 rounds of one label through each replica at the same time.
        for (var round = 0; round < 20; round++)
        {
            await Task.WhenAll(
                ReviewsOf(A).SaveLabelsAsync(set.Key, [new LabelWrite(7, id, $"a{round}", null)], "ada", round, cancellationToken),
                ReviewsOf(B).SaveLabelsAsync(set.Key, [new LabelWrite(7, id, $"b{round}", null)], "bob", round, cancellationToken));
        }

        // Assert: one row, the same for both, and a trail with every write, last one matching the row.
        var onA = ReviewsOf(A).Read(set.Key, [7])[7];
        var onB = ReviewsOf(B).Read(set.Key, [7])[7];
        var trail = ReviewsOf(B).ReadHistory(set.Key, id, 0, 100);
        Assert.Multiple(() =>
        {
            Assert.That(onB.Label, Is.EqualTo(onA.Label));
            Assert.That(trail, Has.Count.EqualTo(40));
            Assert.That(trail[^1].Detail, Is.EqualTo(onA.Label), "the trail is in commit order: its last label is the one kept");
        });
    }
}
