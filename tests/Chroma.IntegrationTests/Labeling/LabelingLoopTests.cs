using Chroma;
using Chroma.DependencyInjection;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace Chroma.IntegrationTests.Labeling;

/// <summary>
/// One round of the labeling loop through the real client and server: fresh recommendations without
/// polling, label the top one, see it leave the ranking, promote it, and read the labeled set back
/// as ML.NET data.
/// </summary>
[TestFixture]
public sealed class LabelingLoopTests
{
    private const int Dimension = 8;
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    [Test]
    [CancelAfter(120_000)]
    public async Task LabelingLoop_RecommendLabelPromoteExport_EachStepSeenByTheNext()
    {
        await using var fixture = await ServerFixture.StartAsync();
        await using var client = new ChromaClient(new ChromaClientOptions { Endpoint = fixture.Endpoint, FlushInterval = TimeSpan.FromMilliseconds(10) });
        var set = client.GetEmbeddingSet(new EmbeddingSetDescriptor("it-labels", "1", "penultimate", Dimension));
        var random = new Random(11);
        for (var i = 0; i < 60; i++)
        {
            set.LogTraining(Point(i % 2 == 0 ? 0 : 1, 4, random), i % 2 == 0 ? "a" : "b");
        }

        for (var i = 0; i < 20; i++)
        {
            set.LogProduction(Point(i % 2 == 0 ? 0 : 1, 4, random), i % 2 == 0 ? "a" : "b", inputUri: $"ordinary/{i}");
        }

        set.LogProduction(Point(5, 40, random), "a", inputUri: "odd/0");

        // No polling: the call flushes, and the server answers once the ranking covers what it acknowledged.
        var first = await client.WaitForRecommendationsAsync(set.Descriptor.Id, Timeout, new RecommendationQuery { PageSize = 5 });
        Assert.That(first.CoversRequest, Is.True);
        Assert.That(first.ScoredRecords, Is.EqualTo(21));
        var top = first.Items[0].Record;
        Assert.That(top.InputUri, Is.EqualTo("odd/0"));

        await client.LabelAsync(set.Descriptor.Id, [new RecordLabel { RecordId = top.Id, Label = "c", Note = "a third class" }], "ada");
        var afterLabel = await client.GetRecommendationsAsync(set.Descriptor.Id, new RecommendationQuery { PageSize = 100 });
        var withReviewed = await client.GetRecommendationsAsync(set.Descriptor.Id, new RecommendationQuery { PageSize = 100, IncludeReviewed = true });
        Assert.That(afterLabel.Items.Select(i => i.Record.Id), Does.Not.Contain(top.Id), "a labeled record is reviewed: left out by default");
        Assert.That(withReviewed.Items.Select(i => i.Record.Id), Does.Contain(top.Id));
        Assert.That(withReviewed.Items.Single(i => i.Record.Id == top.Id).Record.Review!.Label, Is.EqualTo("c"));

        var promotion = await client.PromoteLabelsAsync(set.Descriptor.Id, "carol");
        Assert.That(promotion.TrainingRecordIds.Keys, Is.EqualTo(new[] { top.Id }));
        Assert.That(await client.CountAsync(set.Descriptor.Id, ChromaDatasets.Training), Is.EqualTo(61));

        var labeled = new List<ChromaRecord>();
        await foreach (var record in client.GetLabeledRecordsAsync(set.Descriptor.Id))
        {
            labeled.Add(record);
        }

        Assert.That(labeled.Select(r => (r.Id, r.Review!.Label, r.Review.LabeledBy, r.Review.PromotedBy)), Is.EqualTo(new[] { (top.Id, "c", "ada", "carol") }));
        Assert.That(labeled[0].Embedding.Length, Is.EqualTo(Dimension));
        var history = await client.GetReviewHistoryAsync(set.Descriptor.Id, top.Id);
        Assert.That(history.Select(e => (e.Action, e.Actor)), Is.EqualTo(new[] { ("label", "ada"), ("promote", "carol") }));

        var mlContext = new MLContext(seed: 1);
        var view = labeled.ToDataView(mlContext);
        var features = view.GetColumn<float[]>(LabeledData.FeaturesColumn).ToArray();
        Assert.That(view.GetColumn<string>(LabeledData.LabelColumn).ToArray(), Is.EqualTo(new[] { "c" }));
        Assert.That(features[0], Is.EqualTo(labeled[0].Embedding.ToArray()));
    }

    [Test]
    [CancelAfter(120_000)]
    public async Task LabelingLoop_ThroughTheInterfaceAddChromaRegisters_EveryStepAvailable()
    {
        await using var fixture = await ServerFixture.StartAsync();
        var services = new ServiceCollection();
        services.AddChroma(o => { o.Endpoint = fixture.Endpoint; o.FlushInterval = TimeSpan.FromMilliseconds(10); });
        await using var provider = services.BuildServiceProvider();
        var set = provider.GetRequiredService<ChromaClient>().GetEmbeddingSet(new EmbeddingSetDescriptor("it-labels-di", "1", "penultimate", Dimension));
        var random = new Random(12);
        for (var i = 0; i < 40; i++)
        {
            set.LogTraining(Point(i % 2, 4, random), i % 2 == 0 ? "a" : "b");
        }

        set.LogProduction(Point(0, 4, random), "a", inputUri: "ordinary/0");
        var oddVector = Point(6, 40, random);
        set.LogProduction(oddVector, "a", inputUri: "odd/0");
        IChromaQueryClient queries = provider.GetRequiredService<IChromaQueryClient>();
        var id = set.Descriptor.Id;

        var page = await queries.WaitForRecommendationsAsync(id, Timeout, new RecommendationQuery { PageSize = 2 });
        var odd = page.Items[0].Record;
        var ordinary = page.Items[1].Record;
        var nearest = await queries.FindNearestToRecordAsync(id, odd.Id, new NearestQuery { K = 3, Exact = true }, CancellationToken.None);
        var nearestByVector = await queries.FindNearestAsync(id, oddVector, new NearestQuery { K = 1, Dataset = ChromaDatasets.Production }, CancellationToken.None);
        var labeled = await queries.LabelAsync(id, [new RecordLabel { RecordId = odd.Id, Label = "c" }], "ada");
        var dismissed = await queries.SetReviewStateAsync(id, [ordinary.Id], ReviewState.Dismissed, "bob");
        var promotion = await queries.PromoteLabelsAsync(id, "carol");
        var records = new List<ChromaRecord>();
        await foreach (var record in queries.GetLabeledRecordsAsync(id, includeEmbeddings: false))
        {
            records.Add(record);
        }

        var history = await queries.GetReviewHistoryAsync(id);

        Assert.That(odd.InputUri, Is.EqualTo("odd/0"));
        Assert.That(nearest[0].Record.Id, Is.EqualTo(odd.Id), "the record itself first");
        Assert.That(nearestByVector.Single().Record.Id, Is.EqualTo(odd.Id));
        Assert.That((labeled, dismissed), Is.EqualTo((1L, 1L)));
        Assert.That(promotion.TrainingRecordIds.Keys, Is.EqualTo(new[] { odd.Id }));
        Assert.That(records.Select(r => (r.Id, r.Review!.Label)), Is.EqualTo(new[] { (odd.Id, "c") }));
        Assert.That(history.Select(e => (e.Action, e.Actor)), Is.EquivalentTo(new[] { ("label", "ada"), ("dismiss", "bob"), ("promote", "carol") }));
    }

    private static float[] Point(int axis, float value, Random random)
    {
        var point = new float[Dimension];
        for (var j = 0; j < Dimension; j++)
        {
            point[j] = (float)(random.NextDouble() - 0.5) + (j == axis ? value : 0);
        }

        return point;
    }
}
