using Chroma.Protocol.V1;
using Chroma.Server.Labeling;
using Chroma.Server.Tests.TestSupport;
using Grpc.Core;
using NUnit.Framework;

namespace Chroma.Server.Tests.Labeling;

/// <summary>
/// Promotion through a real server on 127.0.0.1 where an outside probe found it wanting: every pending label at once
/// (it stopped at 1,000), a promotion sent again after a first try stored copies but marked no review (a crash left
/// second copies), records at the server's limits (their copies were refused), and labels with white space around them.
/// </summary>
public class LabelingPromotionTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);
    private static readonly EmbeddingSetDescriptor Set = Records.Set(dimension: 4);
    private static readonly string SetId = Records.SetId(Set);

    [Test, CancelAfter(120_000)]
    public async Task PromoteLabels_NoIdsAndMoreLabelsThanOneCallTakes_PromotesEveryOneOnce()
    {
        // Arrange: 1,203 labeled production records (labels go 1,000 per call at most).
        await using var server = await RunningServer.StartAsync();
        var labeling = new Protocol.V1.Labeling.LabelingClient(server.Channel);
        var production = await SeedAsync(server, 1_203);
        foreach (var chunk in production.Chunk(1_000))
        {
            var labels = new LabelRecordsRequest { SetId = SetId, Reviewer = "ada" };
            labels.Labels.AddRange(chunk.Select(r => new RecordLabel { RecordId = r.Id, Label = "p" }));
            await labeling.LabelRecordsAsync(labels, deadline: Deadline());
        }

        // Act
        var first = await labeling.PromoteLabelsAsync(new PromoteLabelsRequest { SetId = SetId, PromotedBy = "carol" }, deadline: Deadline());
        var second = await labeling.PromoteLabelsAsync(new PromoteLabelsRequest { SetId = SetId, PromotedBy = "carol" }, deadline: Deadline());

        // Assert
        var training = await CountAsync(server, "training");
        Assert.Multiple(() =>
        {
            Assert.That(first.Promoted.Select(p => p.RecordId), Is.EquivalentTo(production.Select(r => r.Id)));
            Assert.That(first.AlreadyPromoted, Is.Zero);
            Assert.That(second.Promoted, Is.Empty);
            Assert.That(second.AlreadyPromoted, Is.EqualTo(1_203), "with no ids, every labeled record already in training is counted");
            Assert.That(training, Is.EqualTo(2 + 1_203));
        });
    }

    [Test, CancelAfter(60_000)]
    public async Task PromoteLabels_CopyStoredByATryThatWasCutShort_StoresItOnceAndMarksTheReview()
    {
        // Arrange: the state a crash between storing the copies and marking the reviews leaves: the copy is in
        // training (as the first try made it), the review does not name it.
        await using var server = await RunningServer.StartAsync();
        var labeling = new Protocol.V1.Labeling.LabelingClient(server.Channel);
        var production = await SeedAsync(server, 3);
        await labeling.LabelRecordsAsync(new LabelRecordsRequest { SetId = SetId, Reviewer = "ada", Labels = { new RecordLabel { RecordId = production[0].Id, Label = "p" } } }, deadline: Deadline());
        var review = (await server.Query.GetRecordsAsync(new GetRecordsRequest { SetId = SetId, Ids = { production[0].Id } }, deadline: Deadline())).Records[0].Review;
        var copy = production[0].Clone();
        copy.Id = LabelingService.TrainingCopyId(SetId, production[0].Id, "p", review.LabeledUnixMs);
        copy.Dataset = "training";
        copy.Label = "p";
        copy.Metadata[LabelingService.PromotedFromKey] = production[0].Id;
        var stored = await server.LogAsync(Records.Batch(Set, copy));
        Assert.That(stored[0].Accepted, Is.EqualTo(1));

        // Act: the promotion sent again.
        var promoted = await labeling.PromoteLabelsAsync(new PromoteLabelsRequest { SetId = SetId, PromotedBy = "carol" }, deadline: Deadline());

        // Assert
        var after = (await server.Query.GetRecordsAsync(new GetRecordsRequest { SetId = SetId, Ids = { production[0].Id } }, deadline: Deadline())).Records[0].Review;
        var training = await CountAsync(server, "training");
        Assert.Multiple(() =>
        {
            Assert.That(promoted.Promoted.Single().TrainingRecordId, Is.EqualTo(copy.Id), "the copy's id is the one the first try used");
            Assert.That(after.PromotedRecordId, Is.EqualTo(copy.Id));
            Assert.That(after.PromotedBy, Is.EqualTo("carol"));
            Assert.That(training, Is.EqualTo(2 + 1), "one copy, not two");
        });
    }

    [Test, CancelAfter(60_000)]
    public async Task PromoteLabels_RecordsAtTheServersLimits_CopiesAreStoredAndEveryLabelPromoted()
    {
        // Arrange: batches of at most 10 records, values of at most 50 characters, 32 metadata entries at most; records
        // that carry 32 entries; 25 labels of 100 characters (a reviewer's label may have 256).
        await using var server = await RunningServer.StartAsync(o =>
        {
            o.Web.Port = 0;
            o.Limits.MaxBatchRecords = 10;
            o.Limits.MaxMetadataValueLength = 50;
        });
        var labeling = new Protocol.V1.Labeling.LabelingClient(server.Channel);
        var metadata = Enumerable.Range(0, 32).ToDictionary(i => "k" + i, i => "v" + i);
        var production = Enumerable.Range(0, 25).Select(i => Records.Make([i, 1, 0, 0], "production", metadata: metadata)).ToArray();
        Record[] training = [Records.Make([10, 0, 0, 0], "training", "a"), Records.Make([-10, 0, 0, 0], "training", "b")];
        var acks = await server.LogAsync([Records.Batch(Set, training), .. production.Chunk(10).Select(c => Records.Batch(Set, c))]);
        Assert.That(acks.Select(a => a.Error), Has.All.Null);
        var label = new string('q', 100);
        var labels = new LabelRecordsRequest { SetId = SetId, Reviewer = "ada" };
        labels.Labels.AddRange(production.Select(r => new RecordLabel { RecordId = r.Id, Label = label }));
        await labeling.LabelRecordsAsync(labels, deadline: Deadline());

        // Act
        var promoted = await labeling.PromoteLabelsAsync(new PromoteLabelsRequest { SetId = SetId, PromotedBy = "carol" }, deadline: Deadline());

        // Assert
        var copy = (await server.Query.GetRecordsAsync(new GetRecordsRequest { SetId = SetId, Ids = { promoted.Promoted[0].TrainingRecordId } }, deadline: Deadline())).Records[0].Record;
        Assert.Multiple(() =>
        {
            Assert.That(promoted.Promoted, Has.Count.EqualTo(25));
            Assert.That(copy.Label, Is.EqualTo(label));
            Assert.That(copy.Metadata, Has.Count.EqualTo(33), "the record's 32 entries and promoted_from");
            Assert.That(copy.Metadata[LabelingService.PromotedFromKey], Is.EqualTo(promoted.Promoted[0].RecordId));
        });
    }

    [TestCase(" 7")]
    [TestCase("7 ")]
    [TestCase("\t7\n")]
    public async Task LabelRecords_LabelWithWhiteSpaceAround_InvalidArgumentAndNothingStored(string label)
    {
        // Arrange
        await using var server = await RunningServer.StartAsync();
        var labeling = new Protocol.V1.Labeling.LabelingClient(server.Channel);
        var production = await SeedAsync(server, 1);

        // Act
        var error = Assert.ThrowsAsync<RpcException>(() => labeling.LabelRecordsAsync(new LabelRecordsRequest
        {
            SetId = SetId, Reviewer = "ada", Labels = { new RecordLabel { RecordId = production[0].Id, Label = label } },
        }, deadline: Deadline()).ResponseAsync);

        // Assert
        var review = (await server.Query.GetRecordsAsync(new GetRecordsRequest { SetId = SetId, Ids = { production[0].Id } }, deadline: Deadline())).Records[0].Review;
        Assert.Multiple(() =>
        {
            Assert.That(error!.StatusCode, Is.EqualTo(StatusCode.InvalidArgument));
            Assert.That(error.Status.Detail, Does.StartWith("labels[0].label: ").And.Contain("white space").Or.Contain("control character"));
            Assert.That(review, Is.Null);
        });
    }

    [Test]
    public void TrainingCopyId_SameInputsAndEachChangedOne_SameUuidThenAnotherVersion8Uuid()
    {
        // Arrange
        const string Record = "0190a000-0000-7000-8000-000000000001";

        // Act
        var id = LabelingService.TrainingCopyId("m/1/fc", Record, "7", 1_700_000_000_000);
        string[] others =
        [
            LabelingService.TrainingCopyId("m/2/fc", Record, "7", 1_700_000_000_000),
            LabelingService.TrainingCopyId("m/1/fc", "0190a000-0000-7000-8000-000000000002", "7", 1_700_000_000_000),
            LabelingService.TrainingCopyId("m/1/fc", Record, "8", 1_700_000_000_000),
            LabelingService.TrainingCopyId("m/1/fc", Record, "7", 1_700_000_000_001),
        ];

        // Assert
        Assert.Multiple(() =>
        {
            Assert.That(LabelingService.TrainingCopyId("m/1/fc", Record, "7", 1_700_000_000_000), Is.EqualTo(id));
            Assert.That(Guid.Parse(id).Version, Is.EqualTo(8));
            Assert.That(Guid.Parse(id).Variant, Is.EqualTo(8).Or.EqualTo(9).Or.EqualTo(10).Or.EqualTo(11), "RFC 9562 variant (10xx)");
            Assert.That(others, Has.None.EqualTo(id));
            Assert.That(others.Distinct().Count(), Is.EqualTo(others.Length));
        });
    }

    private static DateTime Deadline() => DateTime.UtcNow + Timeout;

    // Two training records (classes a and b) and `count` production records.
    private static async Task<Record[]> SeedAsync(RunningServer server, int count)
    {
        Record[] training = [Records.Make([10, 0, 0, 0], "training", "a"), Records.Make([-10, 0, 0, 0], "training", "b")];
        var production = Enumerable.Range(0, count).Select(i => Records.Make([i % 7, i / 7, 1, 0], "production")).ToArray();
        var acks = await server.LogAsync([Records.Batch(Set, training), .. production.Chunk(1_000).Select(c => Records.Batch(Set, c))]);
        Assert.That(acks.Select(a => a.Error), Has.All.Null);
        return production;
    }

    private static async Task<long> CountAsync(RunningServer server, string dataset) =>
        (await server.Query.CountRecordsAsync(new CountRecordsRequest { SetId = SetId, Filter = new RecordFilter { Dataset = dataset } }, deadline: Deadline())).Count;
}
