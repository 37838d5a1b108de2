using Chroma.Protocol.V1;
using Chroma.Server.Tests.TestSupport;
using Grpc.Core;
using NUnit.Framework;

namespace Chroma.Server.Tests.Labeling;

/// <summary>The labeling loop through a real server on 127.0.0.1: labels, review states, promotion, audit.</summary>
public class LabelingApiTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);
    private static readonly EmbeddingSetDescriptor Set = Records.Set(dimension: 4);
    private static readonly string SetId = Records.SetId(Set);

    [Test]
    public async Task LabelRecords_ProductionRecords_ReviewShowsOnRecordsAndInTheAudit()
    {
        await using var server = await RunningServer.StartAsync();
        var labeling = new Protocol.V1.Labeling.LabelingClient(server.Channel);
        var production = await SeedAsync(server);

        var response = await labeling.LabelRecordsAsync(new LabelRecordsRequest
        {
            SetId = SetId,
            Reviewer = "ada",
            Labels =
            {
                new RecordLabel { RecordId = production[0].Id, Label = "c", Note = "looks like a c" },
                new RecordLabel { RecordId = production[1].Id, Label = "a" },
            },
        }, deadline: Deadline());

        Assert.That(response.Updated, Is.EqualTo(2));
        var records = await server.Query.GetRecordsAsync(new GetRecordsRequest { SetId = SetId, Ids = { production[0].Id, production[2].Id } }, deadline: Deadline());
        var review = records.Records[0].Review;
        Assert.That(review.Label, Is.EqualTo("c"));
        Assert.That(review.LabeledBy, Is.EqualTo("ada"));
        Assert.That(review.Note, Is.EqualTo("looks like a c"));
        Assert.That(review.State, Is.EqualTo(ReviewState.Reviewed));
        Assert.That(review.LabeledUnixMs, Is.GreaterThan(0));
        Assert.That(records.Records[1].Review, Is.Null, "a record nobody reviewed has no review");
        var history = await labeling.GetReviewHistoryAsync(new GetReviewHistoryRequest { SetId = SetId }, deadline: Deadline());
        Assert.That(history.Events.Select(e => (e.RecordId, e.Action, e.Actor, e.Detail)), Is.EqualTo(new[]
        {
            (production[0].Id, "label", "ada", "c"),
            (production[1].Id, "label", "ada", "a"),
        }));
    }

    [Test]
    public async Task GetRecommendations_ReviewedAndDismissedRecords_LeftOutUnlessIncludeReviewed()
    {
        await using var server = await RunningServer.StartAsync();
        var labeling = new Protocol.V1.Labeling.LabelingClient(server.Channel);
        var production = await SeedAsync(server);
        await WaitScoredAsync(server, production.Length);

        await labeling.SetReviewStateAsync(new SetReviewStateRequest { SetId = SetId, Ids = { production[0].Id }, State = ReviewState.Reviewed, Reviewer = "ada" }, deadline: Deadline());
        await labeling.SetReviewStateAsync(new SetReviewStateRequest { SetId = SetId, Ids = { production[1].Id }, State = ReviewState.Dismissed, Reviewer = "bob" }, deadline: Deadline());

        var shown = await Ids(server, new GetRecommendationsRequest { SetId = SetId, AllScores = true, PageSize = 100 });
        var all = await Ids(server, new GetRecommendationsRequest { SetId = SetId, AllScores = true, PageSize = 100, IncludeReviewed = true });
        var ranked = await Ids(server, new GetRecommendationsRequest { SetId = SetId, PageSize = 100, Diversity = Diversity.Off });
        Assert.That(shown, Is.EquivalentTo(production.Skip(2).Select(r => r.Id)));
        Assert.That(ranked, Does.Not.Contain(production[0].Id).And.Not.Contain(production[1].Id));
        Assert.That(all, Is.EquivalentTo(production.Select(r => r.Id)));

        // Reopened: ranked again.
        await labeling.SetReviewStateAsync(new SetReviewStateRequest { SetId = SetId, Ids = { production[1].Id }, State = ReviewState.Unreviewed, Reviewer = "bob" }, deadline: Deadline());
        var reopened = await Ids(server, new GetRecommendationsRequest { SetId = SetId, AllScores = true, PageSize = 100 });
        Assert.That(reopened, Does.Contain(production[1].Id).And.Not.Contain(production[0].Id));
    }

    [Test]
    public async Task PromoteLabels_LabeledFarRecord_NextFitUsesItAndTheAuditKeepsWhoAndWhen()
    {
        await using var server = await RunningServer.StartAsync();
        var labeling = new Protocol.V1.Labeling.LabelingClient(server.Channel);
        var production = await SeedAsync(server);
        await WaitScoredAsync(server, production.Length);
        var far = production[0];
        var before = await MahalanobisAsync(server, far.Id);
        await labeling.LabelRecordsAsync(new LabelRecordsRequest { SetId = SetId, Reviewer = "ada", Labels = { new RecordLabel { RecordId = far.Id, Label = "c" } } }, deadline: Deadline());
        var trainingBefore = await CountAsync(server, "training");

        var promoted = await labeling.PromoteLabelsAsync(new PromoteLabelsRequest { SetId = SetId, PromotedBy = "carol" }, deadline: Deadline());

        Assert.That(promoted.Promoted, Has.Count.EqualTo(1));
        Assert.That(promoted.Promoted[0].RecordId, Is.EqualTo(far.Id));
        Assert.That(await CountAsync(server, "training"), Is.EqualTo(trainingBefore + 1));
        var copy = (await server.Query.GetRecordsAsync(new GetRecordsRequest { SetId = SetId, Ids = { promoted.Promoted[0].TrainingRecordId }, IncludeEmbeddings = true }, deadline: Deadline())).Records[0].Record;
        Assert.That(copy.Dataset, Is.EqualTo("training"));
        Assert.That(copy.Label, Is.EqualTo("c"));
        Assert.That(copy.Metadata["promoted_from"], Is.EqualTo(far.Id));
        Assert.That(copy.Embedding, Is.EqualTo(far.Embedding));

        // The refit has a class "c" centred on the record: its Mahalanobis distance collapses.
        var after = await WaitForAsync(() => MahalanobisAsync(server, far.Id), value => value < before / 4);
        Assert.That(after, Is.LessThan(before / 4));
        var labeled = await labeling.GetLabeledRecordsAsync(new GetLabeledRecordsRequest { SetId = SetId }, deadline: Deadline());
        Assert.That(labeled.Records.Single().Review.PromotedBy, Is.EqualTo("carol"));
        Assert.That(labeled.Records.Single().Review.PromotedRecordId, Is.EqualTo(copy.Id));
        var history = await labeling.GetReviewHistoryAsync(new GetReviewHistoryRequest { SetId = SetId, RecordId = far.Id }, deadline: Deadline());
        Assert.That(history.Events.Select(e => e.Action), Is.EqualTo(new[] { "label", "promote" }));
        Assert.That(history.Events[1].Actor, Is.EqualTo("carol"));
        Assert.That(history.Events[1].Detail, Is.EqualTo(copy.Id));
        Assert.That(history.Events[1].UnixMs, Is.GreaterThanOrEqualTo(history.Events[0].UnixMs));
    }

    [Test]
    public async Task PromoteLabels_AgainAndAfterARelabel_CountsAlreadyPromotedAndReplacesTheCopy()
    {
        await using var server = await RunningServer.StartAsync();
        var labeling = new Protocol.V1.Labeling.LabelingClient(server.Channel);
        var production = await SeedAsync(server);
        await labeling.LabelRecordsAsync(new LabelRecordsRequest { SetId = SetId, Reviewer = "ada", Labels = { new RecordLabel { RecordId = production[0].Id, Label = "c" } } }, deadline: Deadline());
        var first = await labeling.PromoteLabelsAsync(new PromoteLabelsRequest { SetId = SetId, Ids = { production[0].Id }, PromotedBy = "carol" }, deadline: Deadline());
        var training = await CountAsync(server, "training");

        var again = await labeling.PromoteLabelsAsync(new PromoteLabelsRequest { SetId = SetId, Ids = { production[0].Id }, PromotedBy = "carol" }, deadline: Deadline());
        await labeling.LabelRecordsAsync(new LabelRecordsRequest { SetId = SetId, Reviewer = "ada", Labels = { new RecordLabel { RecordId = production[0].Id, Label = "d" } } }, deadline: Deadline());
        var relabeled = await labeling.PromoteLabelsAsync(new PromoteLabelsRequest { SetId = SetId, PromotedBy = "carol" }, deadline: Deadline());

        Assert.That(again.Promoted, Is.Empty);
        Assert.That(again.AlreadyPromoted, Is.EqualTo(1));
        Assert.That(relabeled.Promoted, Has.Count.EqualTo(1));
        Assert.That(await CountAsync(server, "training"), Is.EqualTo(training), "the old copy is replaced, not kept");
        var oldCopy = first.Promoted[0].TrainingRecordId;
        var lookup = Assert.ThrowsAsync<RpcException>(() => server.Query.GetRecordsAsync(new GetRecordsRequest { SetId = SetId, Ids = { oldCopy } }, deadline: Deadline()).ResponseAsync);
        Assert.That(lookup!.StatusCode, Is.EqualTo(StatusCode.NotFound));
        var newCopy = (await server.Query.GetRecordsAsync(new GetRecordsRequest { SetId = SetId, Ids = { relabeled.Promoted[0].TrainingRecordId } }, deadline: Deadline())).Records[0];
        Assert.That(newCopy.Record.Label, Is.EqualTo("d"));
    }

    [Test]
    public async Task LabelingCalls_BadArguments_AnswerTheStatusNamingTheProblem()
    {
        await using var server = await RunningServer.StartAsync();
        var labeling = new Protocol.V1.Labeling.LabelingClient(server.Channel);
        var production = await SeedAsync(server);
        var training = (await server.Query.GetRecordsAsync(new GetRecordsRequest { SetId = SetId, Filter = new RecordFilter { Dataset = "training" }, PageSize = 1 }, deadline: Deadline())).Records[0].Record.Id;

        var trainingLabel = Assert.ThrowsAsync<RpcException>(() => labeling.LabelRecordsAsync(new LabelRecordsRequest
        {
            SetId = SetId, Reviewer = "ada", Labels = { new RecordLabel { RecordId = training, Label = "a" } },
        }, deadline: Deadline()).ResponseAsync);
        var unknown = Assert.ThrowsAsync<RpcException>(() => labeling.SetReviewStateAsync(new SetReviewStateRequest
        {
            SetId = SetId, Reviewer = "ada", Ids = { Guid.CreateVersion7().ToString() }, State = ReviewState.Dismissed,
        }, deadline: Deadline()).ResponseAsync);
        var noReviewer = Assert.ThrowsAsync<RpcException>(() => labeling.LabelRecordsAsync(new LabelRecordsRequest
        {
            SetId = SetId, Labels = { new RecordLabel { RecordId = production[0].Id, Label = "a" } },
        }, deadline: Deadline()).ResponseAsync);
        var unlabeled = Assert.ThrowsAsync<RpcException>(() => labeling.PromoteLabelsAsync(new PromoteLabelsRequest
        {
            SetId = SetId, PromotedBy = "carol", Ids = { production[1].Id },
        }, deadline: Deadline()).ResponseAsync);

        Assert.That((trainingLabel!.StatusCode, trainingLabel.Status.Detail), Is.EqualTo((StatusCode.FailedPrecondition,
            $"labels[0].record_id: record '{training}' is in dataset \"training\" (training data); labels and reviews are for records of any other dataset (the name is matched exactly: \"Training\" is another dataset)")));
        Assert.That(unknown!.StatusCode, Is.EqualTo(StatusCode.NotFound));
        Assert.That((noReviewer!.StatusCode, noReviewer.Status.Detail), Is.EqualTo((StatusCode.InvalidArgument, "reviewer: is required")));
        Assert.That(unlabeled!.StatusCode, Is.EqualTo(StatusCode.FailedPrecondition));
        Assert.That(unlabeled.Status.Detail, Does.Contain("has no label to promote"));
    }

    [Test, CancelAfter(60_000)]
    public async Task LabelRecords_BadOrUnknownIdAtIndex1_ErrorNamesLabels1RecordId()
    {
        await using var server = await RunningServer.StartAsync();
        var labeling = new Protocol.V1.Labeling.LabelingClient(server.Channel);
        var production = await SeedAsync(server);
        var unknownId = Guid.CreateVersion7().ToString();

        var unknown = Assert.ThrowsAsync<RpcException>(() => labeling.LabelRecordsAsync(new LabelRecordsRequest
        {
            SetId = SetId, Reviewer = "ada",
            Labels = { new RecordLabel { RecordId = production[0].Id, Label = "a" }, new RecordLabel { RecordId = unknownId, Label = "a" } },
        }, deadline: Deadline()).ResponseAsync);
        var malformed = Assert.ThrowsAsync<RpcException>(() => labeling.LabelRecordsAsync(new LabelRecordsRequest
        {
            SetId = SetId, Reviewer = "ada",
            Labels = { new RecordLabel { RecordId = production[0].Id, Label = "a" }, new RecordLabel { RecordId = "nope", Label = "a" } },
        }, deadline: Deadline()).ResponseAsync);
        var unknownState = Assert.ThrowsAsync<RpcException>(() => labeling.SetReviewStateAsync(new SetReviewStateRequest
        {
            SetId = SetId, Reviewer = "ada", Ids = { unknownId }, State = ReviewState.Dismissed,
        }, deadline: Deadline()).ResponseAsync);

        Assert.Multiple(() =>
        {
            Assert.That((unknown!.StatusCode, unknown.Status.Detail), Is.EqualTo((StatusCode.NotFound, $"labels[1].record_id: record '{unknownId}' not found in embedding set '{SetId}'")));
            Assert.That((malformed!.StatusCode, malformed.Status.Detail), Is.EqualTo((StatusCode.InvalidArgument, "labels[1].record_id: \"nope\" is not a UUID in canonical 8-4-4-4-12 hex form")));
            Assert.That((unknownState!.StatusCode, unknownState.Status.Detail), Is.EqualTo((StatusCode.NotFound, $"ids: record '{unknownId}' not found in embedding set '{SetId}'")));
        });
    }

    [Test, CancelAfter(60_000)]
    public async Task LabelRecords_DatasetsOtherThanExactlyTraining_Labeled()
    {
        // The rule the training-record error states: only the dataset named exactly "training" is refused.
        await using var server = await RunningServer.StartAsync();
        var labeling = new Protocol.V1.Labeling.LabelingClient(server.Channel);
        await SeedAsync(server);
        var others = new[] { "Training", "reference", "val" }.Select(d => Records.Make([1, 2, 3, 4], d)).ToArray();
        Assert.That((await server.LogAsync(Records.Batch(Set, others))).Single().Error, Is.Null);

        var response = await labeling.LabelRecordsAsync(new LabelRecordsRequest
        {
            SetId = SetId, Reviewer = "ada", Labels = { others.Select(r => new RecordLabel { RecordId = r.Id, Label = "a" }) },
        }, deadline: Deadline());

        Assert.That(response.Updated, Is.EqualTo(3));
    }

    [Test, CancelAfter(60_000)]
    public async Task GetReviewHistory_UnknownRecordId_NotFoundWhileDeletedAndUntouchedRecordsAnswer()
    {
        // The Labeling service comment: "Unknown sets or ids answer NotFound". A deleted record keeps its audit trail.
        await using var server = await RunningServer.StartAsync();
        var labeling = new Protocol.V1.Labeling.LabelingClient(server.Channel);
        var production = await SeedAsync(server);
        await labeling.LabelRecordsAsync(new LabelRecordsRequest
        {
            SetId = SetId, Reviewer = "ada", Labels = { new RecordLabel { RecordId = production[0].Id, Label = "c" } },
        }, deadline: Deadline());
        await server.Query.DeleteRecordsAsync(new DeleteRecordsRequest { SetId = SetId, Ids = { production[0].Id } }, deadline: Deadline());
        var unknownId = Guid.NewGuid().ToString();

        var unknown = Assert.ThrowsAsync<RpcException>(() => labeling.GetReviewHistoryAsync(
            new GetReviewHistoryRequest { SetId = SetId, RecordId = unknownId }, deadline: Deadline()).ResponseAsync);
        var deleted = await labeling.GetReviewHistoryAsync(new GetReviewHistoryRequest { SetId = SetId, RecordId = production[0].Id }, deadline: Deadline());
        var untouched = await labeling.GetReviewHistoryAsync(new GetReviewHistoryRequest { SetId = SetId, RecordId = production[1].Id }, deadline: Deadline());

        Assert.That((unknown!.StatusCode, unknown.Status.Detail), Is.EqualTo((StatusCode.NotFound, $"record_id: record '{unknownId}' not found in embedding set '{SetId}'")));
        Assert.That(deleted.Events.Select(e => e.Action), Is.EqualTo(new[] { "label" }));
        Assert.That(untouched.Events, Is.Empty);
    }

    [Test, CancelAfter(60_000)]
    public async Task LabelRecords_SameRecordTwice_InvalidArgumentNamingTheIdAndBothPositions()
    {
        await using var server = await RunningServer.StartAsync();
        var labeling = new Protocol.V1.Labeling.LabelingClient(server.Channel);
        var production = await SeedAsync(server);

        var error = Assert.ThrowsAsync<RpcException>(() => labeling.LabelRecordsAsync(new LabelRecordsRequest
        {
            SetId = SetId,
            Reviewer = "ada",
            Labels =
            {
                new RecordLabel { RecordId = production[0].Id, Label = "a" },
                new RecordLabel { RecordId = production[1].Id, Label = "b" },
                new RecordLabel { RecordId = production[0].Id.ToUpperInvariant(), Label = "c" },
            },
        }, deadline: Deadline()).ResponseAsync);

        Assert.That((error!.StatusCode, error.Status.Detail), Is.EqualTo((StatusCode.InvalidArgument,
            $"labels[2].record_id: {production[0].Id} repeats labels[0].record_id; a record may appear once")));
    }

    private static DateTime Deadline() => DateTime.UtcNow + Timeout;

    // Two training classes around (±10, 0, 0, 0); production: one far record, then ordinary ones.
    private static async Task<Record[]> SeedAsync(RunningServer server)
    {
        var random = new Random(3);
        float Noise() => (float)(random.NextDouble() - 0.5);
        var training = Enumerable.Range(0, 40)
            .Select(i => Records.Make([(i % 2 == 0 ? 10 : -10) + Noise(), Noise(), Noise(), Noise()], "training", i % 2 == 0 ? "a" : "b"))
            .ToArray();
        Record[] production =
        [
            Records.Make([0, 40, 0, 0], "production"),
            .. Enumerable.Range(0, 5).Select(i => Records.Make([(i % 2 == 0 ? 10 : -10) + Noise(), Noise() + i, Noise(), Noise()], "production")),
        ];
        var acks = await server.LogAsync(Records.Batch(Set, training), Records.Batch(Set, production));
        Assert.That(acks.Select(a => a.Error), Has.All.Null);
        return production;
    }

    private static async Task<long> CountAsync(RunningServer server, string dataset) =>
        (await server.Query.CountRecordsAsync(new CountRecordsRequest { SetId = SetId, Filter = new RecordFilter { Dataset = dataset } }, deadline: Deadline())).Count;

    private static async Task<List<string>> Ids(RunningServer server, GetRecommendationsRequest request) =>
        [.. (await server.Query.GetRecommendationsAsync(request, deadline: Deadline())).Recommendations.Select(r => r.Record.Record.Id)];

    private static async Task<double> MahalanobisAsync(RunningServer server, string id)
    {
        var response = await server.Query.GetRecommendationsAsync(
            new GetRecommendationsRequest { SetId = SetId, AllScores = true, IncludeReviewed = true, PageSize = 100 }, deadline: Deadline());
        return response.Recommendations.Single(r => r.Record.Record.Id == id).Signals.Single(s => s.Signal == "mahalanobis").Value;
    }

    private static Task<long> WaitScoredAsync(RunningServer server, int count) =>
        WaitForAsync(
            async () => (await server.Query.GetRecommendationsAsync(new GetRecommendationsRequest { SetId = SetId, PageSize = 1 }, deadline: Deadline())).ScoredRecords,
            scored => scored >= count);

    // Polls a condition the background scoring worker will make true, bounded by the timeout.
    private static async Task<T> WaitForAsync<T>(Func<Task<T>> read, Func<T, bool> done)
    {
        using var timeout = new CancellationTokenSource(Timeout);
        while (true)
        {
            try
            {
                var value = await read();
                if (done(value))
                {
                    return value;
                }
            }
            catch (RpcException ex) when (ex.StatusCode == StatusCode.FailedPrecondition)
            {
                // Not scored yet.
            }

            await Task.Delay(50, timeout.Token);
        }
    }
}
