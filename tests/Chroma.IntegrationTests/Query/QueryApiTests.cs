using Chroma;
using Grpc.Core;

namespace Chroma.IntegrationTests.Query;

[TestFixture]
public sealed class QueryApiTests
{
    private ServerFixture _fixture = null!;
    private ChromaClient _client = null!;
    private EmbeddingSet _set = null!;

    [OneTimeSetUp]
    public async Task StartAsync()
    {
        _fixture = await ServerFixture.StartAsync();
        _client = new ChromaClient(new ChromaClientOptions { Endpoint = _fixture.Endpoint, FlushInterval = TimeSpan.FromMilliseconds(10) });
        _set = _client.GetEmbeddingSet(new EmbeddingSetDescriptor("it-query", "2", "penultimate", 4));
        for (var i = 0; i < 50; i++)
        {
            _set.LogTraining([i, 0, 0, 0], label: (i % 2).ToString(System.Globalization.CultureInfo.InvariantCulture),
                metadata: new Dictionary<string, string> { ["parity"] = i % 2 == 0 ? "even" : "odd" });
        }

        for (var i = 0; i < 10; i++)
        {
            _set.LogProduction([i + 0.25f, 1, 0, 0], predictedClass: "1", inputUri: $"file://prod/{i}.png");
        }

        await _client.FlushAsync().WaitAsync(TimeSpan.FromSeconds(30));
    }

    [OneTimeTearDown]
    public async Task StopAsync()
    {
        await _client.DisposeAsync();
        await _fixture.DisposeAsync();
    }

    [Test, CancelAfter(30_000)]
    public async Task ListSets_AfterLogging_ReportsCountsPerDatasetAndDimension(CancellationToken cancellationToken)
    {
        var sets = await _client.ListSetsAsync(cancellationToken);

        var info = sets.Single(s => s.SetId == _set.Descriptor.Id);
        Assert.Multiple(() =>
        {
            Assert.That(info.Descriptor.Dimension, Is.EqualTo(4));
            Assert.That(info.Datasets.Single(d => d.Dataset == ChromaDatasets.Training).Count, Is.EqualTo(50));
            Assert.That(info.Datasets.Single(d => d.Dataset == ChromaDatasets.Production).Count, Is.EqualTo(10));
        });
    }

    [Test, CancelAfter(30_000)]
    public async Task FindNearestToRecordAsync_NearestQuery_RecordFirstAndSetStatsDescribeTheIndex(CancellationToken cancellationToken)
    {
        // Arrange
        var page = await _client.GetRecordsAsync(_set.Descriptor.Id, new RecordQuery { Dataset = ChromaDatasets.Production, PageSize = 1 }, cancellationToken);
        var id = page.Records.Single().Id;

        // Act
        var exact = await _client.FindNearestToRecordAsync(_set.Descriptor.Id, id, new NearestQuery { K = 3, Exact = true }, cancellationToken);
        var broad = await _client.FindNearestAsync(_set.Descriptor.Id, new float[] { 0.25f, 1, 0, 0 }, new NearestQuery { K = 2, SearchBreadth = 500, Dataset = ChromaDatasets.Production }, cancellationToken);
        var info = (await _client.ListSetsAsync(cancellationToken)).Single(s => s.SetId == _set.Descriptor.Id);

        // Assert: 60 records are below the exact-search threshold, so the set is scanned and reports no breadth.
        Assert.Multiple(() =>
        {
            Assert.That(exact, Has.Count.EqualTo(3));
            Assert.That(exact[0].Record.Id, Is.EqualTo(id));
            Assert.That(exact[0].Distance, Is.Zero);
            Assert.That(broad.Select(n => n.Record.InputUri), Is.EqualTo(new[] { "file://prod/0.png", "file://prod/1.png" }));
            Assert.That(info.Index, Is.Not.Null);
            Assert.That(info.Index!.Kind, Is.EqualTo(EmbeddingSetIndexKind.Exact));
            Assert.That(info.Index.IndexedCount, Is.EqualTo(60));
            Assert.That(info.Index.SearchBreadth, Is.Zero);
            Assert.That(info.Index.EstimatedRecallAt10, Is.Null);
        });
    }

    [Test, CancelAfter(30_000)]
    public async Task Count_WithDatasetAndMetadataFilter_CountsOnlyMatches(CancellationToken cancellationToken)
    {
        var even = await _client.CountAsync(_set.Descriptor.Id, ChromaDatasets.Training,
            new Dictionary<string, string> { ["parity"] = "even" }, cancellationToken);

        Assert.That(even, Is.EqualTo(25));
    }

    [Test, CancelAfter(30_000)]
    public async Task FindNearest_TrainingOnly_ReturnsClosestTrainingRecordsInOrder(CancellationToken cancellationToken)
    {
        var neighbors = await _client.FindNearestAsync(_set.Descriptor.Id, new float[] { 7.1f, 0, 0, 0 }, 3,
            ChromaDatasets.Training, cancellationToken);

        var firstValues = neighbors.Select(n => n.Record.Label).ToList();
        Assert.Multiple(() =>
        {
            Assert.That(neighbors, Has.Count.EqualTo(3));
            Assert.That(neighbors.Select(n => n.Distance), Is.Ordered);
            Assert.That(neighbors.All(n => n.Record.Dataset == ChromaDatasets.Training), Is.True);
            Assert.That(neighbors[0].Distance, Is.EqualTo(0.01f).Within(1e-4f), "7.1 is 0.1 from 7: squared L2 0.01");
            Assert.That(firstValues[0], Is.EqualTo("1"), "record 7 is odd");
            Assert.That(neighbors, Is.TypeOf<NearestNeighbors>().With.Property(nameof(NearestNeighbors.IndexBehind)).False, "the index holds every record logged before");
        });
    }

    [Test, CancelAfter(30_000)]
    public async Task TagThenDelete_ProductionRecord_ChangesOnlyThatRecord(CancellationToken cancellationToken)
    {
        var page = await _client.GetRecordsAsync(_set.Descriptor.Id,
            new RecordQuery { Dataset = ChromaDatasets.Production, PageSize = 100 }, cancellationToken);
        var target = page.Records.Single(r => r.InputUri == "file://prod/9.png");

        var tagged = await _client.TagAsync(_set.Descriptor.Id, [target.Id],
            new Dictionary<string, string> { ["review"] = "needed" }, cancellationToken);
        var reviewCount = await _client.CountAsync(_set.Descriptor.Id, null,
            new Dictionary<string, string> { ["review"] = "needed" }, cancellationToken);
        var deleted = await _client.DeleteAsync(_set.Descriptor.Id, [target.Id], cancellationToken);
        var remaining = await _client.CountAsync(_set.Descriptor.Id, ChromaDatasets.Production, null, cancellationToken);
        var nearest = await _client.FindNearestAsync(_set.Descriptor.Id, new float[] { 9.25f, 1, 0, 0 }, 1,
            ChromaDatasets.Production, cancellationToken);

        Assert.Multiple(() =>
        {
            Assert.That(tagged, Is.EqualTo(1));
            Assert.That(reviewCount, Is.EqualTo(1));
            Assert.That(deleted, Is.EqualTo(1));
            Assert.That(remaining, Is.EqualTo(9));
            Assert.That(nearest.Single().Record.Id, Is.Not.EqualTo(target.Id), "a deleted record is never a neighbour");
        });
    }

    [Test, CancelAfter(30_000)]
    public void Query_UnknownSet_ThrowsNotFoundNamingTheSet()
    {
        var ex = Assert.ThrowsAsync<ChromaException>(() => _client.CountAsync("no-such/1/layer"));

        Assert.Multiple(() =>
        {
            Assert.That(ex!.StatusCode, Is.EqualTo(StatusCode.NotFound));
            Assert.That(ex.Message, Does.Contain("no-such/1/layer"));
        });
    }

    [Test, CancelAfter(30_000)]
    public async Task GetRecords_TokenAlreadyCancelled_ThrowsOperationCanceledException(CancellationToken cancellationToken)
    {
        using var cancelled = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        await cancelled.CancelAsync();

        var thrown = Assert.CatchAsync<OperationCanceledException>(() => _client.GetRecordsAsync(_set.Descriptor.Id, cancellationToken: cancelled.Token));

        Assert.That(thrown!.CancellationToken, Is.EqualTo(cancelled.Token));
    }

    [Test, CancelAfter(30_000)]
    public async Task Constructor_BorrowedGrpcChannel_QueriesThroughItAndLeavesItOpen(CancellationToken cancellationToken)
    {
        using var channel = Grpc.Net.Client.GrpcChannel.ForAddress(_fixture.Endpoint);
        var borrowing = new ChromaClient(channel);
        var countThroughBorrowed = await borrowing.CountAsync(_set.Descriptor.Id, ChromaDatasets.Training, cancellationToken: cancellationToken);
        await borrowing.DisposeAsync();

        // The channel is the caller's: still usable by another client after the first is disposed.
        await using var second = new ChromaClient(channel);
        var countAfterDispose = await second.CountAsync(_set.Descriptor.Id, ChromaDatasets.Training, cancellationToken: cancellationToken);

        Assert.That((countThroughBorrowed, countAfterDispose), Is.EqualTo((50L, 50L)));
    }
}
