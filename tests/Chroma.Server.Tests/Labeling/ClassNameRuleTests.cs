using Chroma.Protocol.V1;
using Chroma.Server.Labeling;
using Chroma.Server.Storage;
using Chroma.Server.Tests.TestSupport;
using Grpc.Core;
using Microsoft.Extensions.DependencyInjection;
using NUnit.Framework;

namespace Chroma.Server.Tests.Labeling;

/// <summary>
/// One rule for text that names a class, in LabelRecords and in ingest (a record's label): an outside probe labeled
/// records "\u200Bx" and "a\0b\nc", promoted them to training class names and exported them raw, and ingest took
/// training labels " 7 ". A model's predicted_class and class_names are its outputs, stored as sent.
/// </summary>
public class ClassNameRuleTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);
    private static readonly EmbeddingSetDescriptor Set = Records.Set(dimension: 4, model: "class-names");
    private static readonly string SetId = Records.SetId(Set);

    private static readonly string[] Refused =
    [
        "\u200Bx", "x\u200B", "\uFEFF7", "7\u2060", "\u00A07", "7\u3000", " 7 ", "\t7", "a\u0000b", "a\u0000b\nc", "sea\u0085lion", "x\u007F",
    ];

    private static readonly string[] Ordinary = ["7", "sea lion", "chat noir", "猫", "ñandú", "Straße 2", "👨‍👩‍👧", "a\u200Db", "12345"];

    [TestCaseSource(nameof(Refused))]
    public async Task LabelRecords_LabelThatWouldSplitAClass_InvalidArgumentAndNothingStored(string label)
    {
        // Arrange
        await using var server = await RunningServer.StartAsync();
        var labeling = new Protocol.V1.Labeling.LabelingClient(server.Channel);
        var production = await SeedAsync(server);

        // Act
        var error = Assert.ThrowsAsync<RpcException>(() => labeling.LabelRecordsAsync(new LabelRecordsRequest
        {
            SetId = SetId, Reviewer = "ada", Labels = { new RecordLabel { RecordId = production[0].Id, Label = "ok" }, new RecordLabel { RecordId = production[1].Id, Label = label } },
        }, deadline: Deadline()).ResponseAsync);

        // Assert
        var reviews = (await server.Query.GetRecordsAsync(new GetRecordsRequest { SetId = SetId, Ids = { production[0].Id, production[1].Id } }, deadline: Deadline())).Records.Select(r => r.Review);
        Assert.Multiple(() =>
        {
            Assert.That(error!.StatusCode, Is.EqualTo(StatusCode.InvalidArgument));
            Assert.That(error.Status.Detail, Does.StartWith("labels[1].label: "));
            Assert.That(error.Status.Detail, Does.Contain("control character").Or.Contain("white space or an invisible character"));
            Assert.That(reviews, Has.All.Null);
        });
    }

    [Test]
    public async Task LabelRecords_OrdinaryLabels_Stored()
    {
        // Arrange
        await using var server = await RunningServer.StartAsync();
        var labeling = new Protocol.V1.Labeling.LabelingClient(server.Channel);
        var production = await SeedAsync(server);
        var request = new LabelRecordsRequest { SetId = SetId, Reviewer = "ada" };
        request.Labels.AddRange(Ordinary.Select((label, i) => new RecordLabel { RecordId = production[i].Id, Label = label }));

        // Act
        var response = await labeling.LabelRecordsAsync(request, deadline: Deadline());

        // Assert
        var stored = await server.Query.GetRecordsAsync(new GetRecordsRequest { SetId = SetId, Ids = { production.Take(Ordinary.Length).Select(r => r.Id) } }, deadline: Deadline());
        Assert.That(response.Updated, Is.EqualTo(Ordinary.Length));
        Assert.That(stored.Records.Select(r => r.Review.Label), Is.EqualTo(Ordinary));
    }

    [Test]
    public async Task Log_LabelsThatWouldSplitAClass_EachRefusedRecordListedAndTheModelsOutputsStoredAsSent()
    {
        // Arrange: record 0 is fine; records 1-3 and 9 break the rule in their label; 4-8 carry odd model outputs
        // (predicted_class and class_names are stored as sent: some models' class lists repeat a name).
        await using var server = await RunningServer.StartAsync();
        var rows = Enumerable.Range(0, 10).Select(i => Records.Make([i, 1, 0, 0], "training", "a")).ToArray();
        rows[1].Label = " 7 ";
        rows[2].Label = "a\u0000b";
        rows[3].Label = "\u200B7";
        rows[4].Inference.PredictedClass = "cat\uFEFF";
        rows[5].Inference.PredictedClass = "c a t";
        rows[6].Inference.ClassNames[1] = "a";
        rows[7].Inference.ClassNames[0] = "crane";
        rows[7].Inference.ClassNames[1] = "crane";
        rows[8].Inference.ClassNames[1] = "b ";
        rows[9].Dataset = "production";
        rows[9].Label = "x\u0007";

        // Act
        var ack = (await server.LogAsync(Records.Batch(Set, rows))).Single();

        // Assert
        Assert.That(ack.Error, Is.Not.Null);
        Assert.That(ack.Error.Records.Select(r => r.RecordIndex), Is.EqualTo(new[] { 1, 2, 3, 9 }));
        Assert.That(ack.Error.Records.Select(r => r.Message), Is.EqualTo(new[]
        {
            "records[1].label: starts with white space or an invisible character (U+0020); send it without (it names a class: \" 7 \" and \"7\" would be two classes)",
            "records[2].label: contains a control character (U+0000) at index 1; a class name must be printable text",
            "records[3].label: starts with white space or an invisible character (U+200B); send it without (it names a class: \" 7 \" and \"7\" would be two classes)",
            "records[9].label: contains a control character (U+0007) at index 1; a class name must be printable text",
        }));
        var resent = (await server.LogAsync(Records.Batch(Set, [rows[0], .. rows[4..9]]))).Single();
        Assert.That((resent.Error, resent.Accepted), Is.EqualTo(((BatchError?)null, 6)), "the batch without the listed records is stored");
    }

    [Test]
    public async Task Log_RecordsStoredBeforeTheRuleSentAgainUnchanged_CountedAsDuplicatesWhileNewOnesAreStillRefused()
    {
        // Arrange: what a server before the rule stored, written to the store directly: training records labeled
        // "c1 " and "c\u200B2" (probe T's T8: a nightly job re-logging its training set had every batch refused).
        await using var server = await RunningServer.StartAsync();
        var records = server.Server.Services.GetRequiredService<IRecordStore>();
        var old = new[] { Records.Make([1, 0, 0, 0], "training", "c1 "), Records.Make([2, 0, 0, 0], "training", "c\u200B2"), Records.Make([3, 0, 0, 0], "training", "c3") };
        Assert.That((await records.IngestAsync(SetId, Set, [.. old.Select(r => PreparedRecord.From(r, r.Id))])).Error, Is.Null);
        var changed = old[0].Clone();
        changed.Embedding[1] = 1;
        var fresh = Records.Make([4, 0, 0, 0], "training", "c4 ");

        // Act
        var again = (await server.LogAsync(Records.Batch(Set, old))).Single();
        var withChangedAndNew = (await server.LogAsync(Records.Batch(Set, [.. old, changed, fresh]))).Single();

        // Assert
        Assert.Multiple(() =>
        {
            Assert.That((again.Error, again.Accepted, again.Duplicates), Is.EqualTo(((BatchError?)null, 0, 3)), "stored unchanged: duplicates");
            Assert.That(withChangedAndNew.Error?.Records.Select(r => r.RecordIndex), Is.EqualTo(new[] { 3, 4 }), "a changed or new record is held to the rule");
            Assert.That(withChangedAndNew.Error?.Records.Select(r => r.Message), Is.All.Contain("ends with white space"));
        });
    }

    [Test]
    public async Task Log_OrdinaryLabelsAndInference_Stored()
    {
        // Arrange: unicode letters, inner spaces, digits; an empty label and an empty predicted_class name nothing.
        await using var server = await RunningServer.StartAsync();
        var rows = Ordinary.Select((label, i) => Records.Make([i, 2, 0, 0], "training", label)).ToList();
        var unlabeled = Records.Make([0, 3, 0, 0], "production");
        unlabeled.Inference.PredictedClass = string.Empty;
        unlabeled.Inference.ClassNames.Clear();
        unlabeled.Inference.ClassNames.Add(["sea lion", "猫"]);
        rows.Add(unlabeled);

        // Act
        var ack = (await server.LogAsync(Records.Batch(Set, [.. rows]))).Single();

        // Assert
        Assert.That(ack.Error, Is.Null);
        var stored = await server.Query.GetRecordsAsync(new GetRecordsRequest { SetId = SetId, Filter = new RecordFilter { Dataset = "training" } }, deadline: Deadline());
        Assert.That(stored.Records.Select(r => r.Record.Label), Is.EquivalentTo(Ordinary));
    }

    [Test]
    public async Task PromoteLabels_DataStoredBeforeTheRule_InferenceCopiedAsStoredButALabelBreakingTheRuleRefused()
    {
        // Arrange: what a server before the rule stored, written to the store directly: a record whose inference
        // repeats a class name, and a reviewer's label with a zero-width space in front.
        await using var server = await RunningServer.StartAsync();
        var production = await SeedAsync(server);
        var records = server.Server.Services.GetRequiredService<IRecordStore>();
        var old = Records.Make([5, 5, 1, 0], "production");
        old.Inference.PredictedClass = "a ";
        old.Inference.ClassNames[1] = "a";
        var outcome = await records.IngestAsync(SetId, Set, [PreparedRecord.From(old, old.Id)]);
        Assert.That(outcome.Error, Is.Null);
        var set = records.FindSet(SetId)!;
        var oldLabeled = records.GetRecordsByIds(set, [production[0].Id], includeEmbeddings: false).Single();
        await server.Server.Services.GetRequiredService<IReviewStore>().SaveLabelsAsync(
            set.Key, [new LabelWrite(oldLabeled.Sequence, production[0].Id, "\u200Bx", null)], "ada", 1_700_000_000_000);
        var labeling = new Protocol.V1.Labeling.LabelingClient(server.Channel);
        await labeling.LabelRecordsAsync(new LabelRecordsRequest { SetId = SetId, Reviewer = "ada", Labels = { new RecordLabel { RecordId = old.Id, Label = "a" } } }, deadline: Deadline());

        // Act
        var promoted = await labeling.PromoteLabelsAsync(new PromoteLabelsRequest { SetId = SetId, Ids = { old.Id }, PromotedBy = "carol" }, deadline: Deadline());
        var refused = Assert.ThrowsAsync<RpcException>(() => labeling.PromoteLabelsAsync(
            new PromoteLabelsRequest { SetId = SetId, Ids = { production[0].Id }, PromotedBy = "carol" }, deadline: Deadline()).ResponseAsync);

        // Assert
        var copy = (await server.Query.GetRecordsAsync(new GetRecordsRequest { SetId = SetId, Ids = { promoted.Promoted.Single().TrainingRecordId } }, deadline: Deadline())).Records.Single().Record;
        Assert.Multiple(() =>
        {
            Assert.That((copy.Label, copy.Inference.PredictedClass, copy.Inference.ClassNames), Is.EqualTo(("a", "a ", new[] { "a", "a" })));
            Assert.That(refused!.StatusCode, Is.EqualTo(StatusCode.InvalidArgument));
            Assert.That(refused.Status.Detail, Does.Contain("records[0].label: starts with white space or an invisible character (U+200B)"));
        });
    }

    private static DateTime Deadline() => DateTime.UtcNow + Timeout;

    // Two training records (classes a and b) and 12 production records.
    private static async Task<Record[]> SeedAsync(RunningServer server)
    {
        Record[] training = [Records.Make([10, 0, 0, 0], "training", "a"), Records.Make([-10, 0, 0, 0], "training", "b")];
        var production = Enumerable.Range(0, 12).Select(i => Records.Make([i, 1, 1, 0], "production")).ToArray();
        var acks = await server.LogAsync(Records.Batch(Set, training), Records.Batch(Set, production));
        Assert.That(acks.Select(a => a.Error), Has.All.Null);
        return production;
    }
}
