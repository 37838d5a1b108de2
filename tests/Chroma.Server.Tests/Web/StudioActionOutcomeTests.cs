using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Chroma.Protocol.V1;
using Chroma.Server.Labeling;
using Chroma.Server.Storage;
using Chroma.Server.Tests.TestSupport;
using Microsoft.Extensions.DependencyInjection;

namespace Chroma.Server.Tests.Web;

/// <summary>
/// What Studio's labeling actions answer when they change nothing (probe Z): a record deleted meanwhile is counted as
/// missing, not as a skipped training record, and an action that changed nothing carries no undo token; a label's note
/// is stored and the record's detail shows it with who labeled it and when.
/// </summary>
[TestFixture]
public sealed class StudioActionOutcomeTests
{
    private static readonly EmbeddingSetDescriptor Descriptor = new() { Model = "m", ModelVersion = "1", Layer = "l", Dimension = 8 };

    [Test]
    [CancelAfter(60_000)]
    public async Task Label_RecordDeletedMeanwhile_CountedMissingAndNoUndo(CancellationToken cancellationToken)
    {
        // Arrange: a production record deleted by another client (probe Z, Z18).
        await using var server = await RunningServer.StartAsync();
        using var http = new HttpClient { BaseAddress = server.Server.WebEndpoint };
        var production = Batch("production", 20, 2);
        await server.LogAsync(Batch("training", 0, 20), production);
        var gone = production.Records[0].Id;
        var store = server.Server.Services.GetRequiredService<IRecordStore>();
        await store.DeleteAsync(store.FindSet("m/1/l")!, [gone], cancellationToken);

        // Act
        var label = await PostAsync(http, "/api/label", new { set = "m/1/l", ids = new[] { gone }, label = "3" }, cancellationToken);
        var review = await PostAsync(http, "/api/review", new { set = "m/1/l", ids = new[] { gone }, state = "dismissed" }, cancellationToken);

        // Assert
        Assert.Multiple(() =>
        {
            foreach (var answer in new[] { label, review })
            {
                Assert.That(answer.GetProperty("changed").GetInt64(), Is.Zero);
                Assert.That(answer.GetProperty("missing").GetInt64(), Is.EqualTo(1), "the deleted record is missing");
                Assert.That(answer.GetProperty("skipped").GetInt64(), Is.Zero, "not a skipped training record");
                Assert.That(answer.TryGetProperty("undo", out var undo) && undo.ValueKind == JsonValueKind.String, Is.False, "nothing to undo");
            }
        });
    }

    [Test]
    [CancelAfter(60_000)]
    public async Task LabelAndPromote_TrainingRecordsOnly_NothingChangedNoUndo(CancellationToken cancellationToken)
    {
        // Arrange: a selection of training records only (probe Z, Z13).
        await using var server = await RunningServer.StartAsync();
        using var http = new HttpClient { BaseAddress = server.Server.WebEndpoint };
        var training = Batch("training", 0, 20);
        await server.LogAsync(training, Batch("production", 20, 2));
        var ids = training.Records.Take(3).Select(r => r.Id).ToArray();

        // Act
        var label = await PostAsync(http, "/api/label", new { set = "m/1/l", ids, label = "3" }, cancellationToken);

        // Assert
        Assert.Multiple(() =>
        {
            Assert.That(label.GetProperty("changed").GetInt64(), Is.Zero);
            Assert.That(label.GetProperty("skipped").GetInt64(), Is.EqualTo(3), "three training records skipped");
            Assert.That(label.GetProperty("missing").GetInt64(), Is.Zero);
            Assert.That(label.TryGetProperty("undo", out var undo) && undo.ValueKind == JsonValueKind.String, Is.False, "no undo of nothing");
        });
    }

    [Test]
    [CancelAfter(60_000)]
    public async Task LabelWithNote_DetailShowsNoteLabelerAndTime_PromoteTwiceSaysAlready(CancellationToken cancellationToken)
    {
        // Arrange (probe Z, Z16 and Z19): one record labeled over the labeling service by ada with a note, one by Studio.
        await using var server = await RunningServer.StartAsync();
        using var http = new HttpClient { BaseAddress = server.Server.WebEndpoint };
        var production = Batch("production", 20, 2);
        await server.LogAsync(Batch("training", 0, 20), production);
        var (a, b) = (production.Records[0].Id, production.Records[1].Id);
        var labeling = server.Server.Services.GetRequiredService<LabelingService>();
        await labeling.LabelAsync("m/1/l", [new LabelInput(a, "2", "Looks like a letter D")], "ada", cancellationToken);

        // Act
        await PostAsync(http, "/api/label", new { set = "m/1/l", ids = new[] { b }, label = "1", note = "  thin stroke " }, cancellationToken);
        var detail = JsonDocument.Parse(await http.GetStringAsync($"/api/record?set=m/1/l&sequence={Sequence(server, a)}", cancellationToken)).RootElement;
        var stored = labeling.Reviews(server.Server.Services.GetRequiredService<IRecordStore>().FindSet("m/1/l")!, [Sequence(server, b)]).Values.Single();
        var first = await PostAsync(http, "/api/promote", new { set = "m/1/l", ids = new[] { b } }, cancellationToken);
        var again = await PostAsync(http, "/api/promote", new { set = "m/1/l", ids = new[] { b } }, cancellationToken);

        // Assert
        Assert.Multiple(() =>
        {
            Assert.That(detail.GetProperty("reviewNote").GetString(), Is.EqualTo("Looks like a letter D"));
            Assert.That(detail.GetProperty("labeledBy").GetString(), Is.EqualTo("ada"));
            Assert.That(detail.GetProperty("labeledUnixMs").GetInt64(), Is.GreaterThan(0));
            Assert.That(stored.Note, Is.EqualTo("thin stroke"), "Studio's label carries its note, trimmed");
            Assert.That((first.GetProperty("changed").GetInt64(), first.GetProperty("already").GetInt64()), Is.EqualTo((1L, 0L)));
            Assert.That((again.GetProperty("changed").GetInt64(), again.GetProperty("already").GetInt64()), Is.EqualTo((0L, 1L)), "the repeat says already promoted");
        });
    }

    [Test]
    [CancelAfter(60_000)]
    public async Task Promote_LabelThatIsNoTrainingClass_RefusedNamingTheClassesUntilAllowed(CancellationToken cancellationToken)
    {
        // Arrange (probe Z, Z19): training classes 0 and 1; a production record labeled "seven".
        await using var server = await RunningServer.StartAsync();
        using var http = new HttpClient { BaseAddress = server.Server.WebEndpoint };
        var production = Batch("production", 20, 1);
        await server.LogAsync(Batch("training", 0, 20), production);
        var id = production.Records[0].Id;
        await PostAsync(http, "/api/label", new { set = "m/1/l", ids = new[] { id }, label = "seven" }, cancellationToken);

        // Act
        var refused = await http.PostAsJsonAsync("/api/promote", new { set = "m/1/l", ids = new[] { id } }, cancellationToken);
        var problem = JsonDocument.Parse(await refused.Content.ReadAsStringAsync(cancellationToken)).RootElement;
        var allowed = await PostAsync(http, "/api/promote", new { set = "m/1/l", ids = new[] { id }, allowNewClasses = true }, cancellationToken);

        // Assert
        Assert.Multiple(() =>
        {
            Assert.That(refused.StatusCode, Is.EqualTo(HttpStatusCode.Conflict));
            Assert.That(problem.GetProperty("error").GetString(), Does.Contain("label 'seven' is not one of the set's 2 training classes (0, 1)"));
            Assert.That(problem.GetProperty("newClasses").EnumerateArray().Select(c => c.GetString()), Is.EqualTo(new[] { "seven" }));
            Assert.That(allowed.GetProperty("changed").GetInt64(), Is.EqualTo(1), "promoted once the new class is meant");
        });
    }

    private static long Sequence(RunningServer server, string id)
    {
        var store = server.Server.Services.GetRequiredService<IRecordStore>();
        return store.GetRecordsByIds(store.FindSet("m/1/l")!, [id], includeEmbeddings: false).Single().Sequence;
    }

    [Test]
    [CancelAfter(60_000)]
    public async Task LabelReviewTagDelete_IdsInUpperCase_ActOnTheRecordAsTheGrpcApiDoes(CancellationToken cancellationToken)
    {
        // Ids are UUIDs of either case (stored lower-case): the gRPC API takes "ABC..." as "abc...", and so must Studio's.
        await using var server = await RunningServer.StartAsync();
        using var http = new HttpClient { BaseAddress = server.Server.WebEndpoint };
        var production = Batch("production", 20, 4);
        await server.LogAsync(Batch("training", 0, 20), production);
        string Upper(int i) => production.Records[i].Id.ToUpperInvariant();

        var label = await PostAsync(http, "/api/label", new { set = "m/1/l", ids = new[] { Upper(0) }, label = "3" }, cancellationToken);
        var review = await PostAsync(http, "/api/review", new { set = "m/1/l", ids = new[] { Upper(1) }, state = "dismissed" }, cancellationToken);
        var tag = await PostAsync(http, "/api/tag", new { set = "m/1/l", ids = new[] { Upper(2) }, tags = new Dictionary<string, string> { ["k"] = "v" } }, cancellationToken);
        var delete = await PostAsync(http, "/api/delete", new { set = "m/1/l", ids = new[] { Upper(3) } }, cancellationToken);

        Assert.Multiple(() =>
        {
            Assert.That(label.GetProperty("changed").GetInt64(), Is.EqualTo(1), label.ToString());
            Assert.That(review.GetProperty("changed").GetInt64(), Is.EqualTo(1), review.ToString());
            Assert.That(tag.GetProperty("changed").GetInt64(), Is.EqualTo(1), tag.ToString());
            Assert.That(delete.GetProperty("changed").GetInt64(), Is.EqualTo(1), delete.ToString());
        });
    }

    [TestCase("/api/review", """ "state":"bogus" """, "state")]
    [TestCase("/api/review", """ "state":null """, "state")]
    [TestCase("/api/label", """ "label":"  " """, "label")]
    [CancelAfter(60_000)]
    public async Task LabelOrReview_BadLabelOrStateOnTrainingOrMissingRecordsOnly_400NotChangedZero(string path, string field, string named, CancellationToken cancellationToken)
    {
        // A request the server refuses for one record is refused the same for a selection of training or deleted records.
        await using var server = await RunningServer.StartAsync();
        using var http = new HttpClient { BaseAddress = server.Server.WebEndpoint };
        var training = Batch("training", 0, 20);
        await server.LogAsync(training, Batch("production", 20, 2));

        foreach (var id in new[] { training.Records[0].Id, Guid.CreateVersion7().ToString() })
        {
            var body = $$"""{"set":"m/1/l","ids":["{{id}}"],{{field}}}""";
            using var response = await http.PostAsync(path, new StringContent(body, System.Text.Encoding.UTF8, "application/json"), cancellationToken);
            var text = await response.Content.ReadAsStringAsync(cancellationToken);

            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest), text);
            Assert.That(text, Does.Contain(named + ":"));
        }
    }

    private static async Task<JsonElement> PostAsync(HttpClient http, string path, object body, CancellationToken cancellationToken)
    {
        var response = await http.PostAsJsonAsync(path, body, cancellationToken);
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK), await response.Content.ReadAsStringAsync(cancellationToken));
        return JsonDocument.Parse(await response.Content.ReadAsStringAsync(cancellationToken)).RootElement;
    }

    private static LogBatch Batch(string dataset, int first, int count) =>
        Records.Batch(Descriptor, [.. Enumerable.Range(first, count).Select(i => Records.Make(
            [.. Enumerable.Range(0, 8).Select(d => (float)Math.Sin((i * 0.7) + d))],
            dataset,
            dataset == "training" ? (i % 2).ToString(System.Globalization.CultureInfo.InvariantCulture) : null))]);
}
