using Chroma.Protocol.V1;
using Chroma.Server.Tests.TestSupport;
using Grpc.Core;

namespace Chroma.Server.Tests.Services;

[TestFixture]
public sealed class QueryServiceTests
{
    private RunningServer _server = null!;
    private Record[] _records = null!;
    private string _setId = null!;

    [OneTimeSetUp]
    public async Task StartAsync()
    {
        _server = await RunningServer.StartAsync();
        _records = Records.Sequence(30);
        var set = Records.Set(model: "query");
        _setId = Records.SetId(set);
        var acks = await _server.LogAsync(Records.Batch(set, _records));
        Assert.That(acks.Single().Accepted, Is.EqualTo(30));
    }

    [OneTimeTearDown]
    public async Task StopAsync() => await _server.DisposeAsync();

    [Test, CancelAfter(30_000)]
    public async Task ListSets_AfterIngest_ReportsDescriptorAndCounts()
    {
        // Act
        var response = await _server.Query.ListSetsAsync(new ListSetsRequest());

        // Assert
        var info = response.Sets.Single(s => s.SetId == _setId);
        Assert.Multiple(() =>
        {
            Assert.That(info.Descriptor_.Dimension, Is.EqualTo(4));
            Assert.That(info.TotalRecords, Is.EqualTo(30));
            Assert.That(info.Datasets.Single(d => d.Dataset == "production").Count, Is.EqualTo(6));
            Assert.That(info.CreatedUnixMs, Is.Positive.And.LessThanOrEqualTo(info.UpdatedUnixMs));
        });
    }

    [Test, CancelAfter(30_000)]
    public async Task GetRecords_PagedWithTokens_ReturnsEveryRecordOnce()
    {
        // Arrange
        var ids = new List<string>();
        var token = string.Empty;

        // Act
        do
        {
            var page = await _server.Query.GetRecordsAsync(new GetRecordsRequest { SetId = _setId, PageSize = 8, PageToken = token });
            ids.AddRange(page.Records.Select(r => r.Record.Id));
            token = page.NextPageToken;
        }
        while (token.Length > 0);

        // Assert
        Assert.That(ids, Is.EqualTo(_records.Select(r => r.Id)));
    }

    [Test, CancelAfter(30_000)]
    public async Task GetRecords_ByIdsWithEmbeddings_ReturnsThoseRecords()
    {
        // Act
        var response = await _server.Query.GetRecordsAsync(new GetRecordsRequest
        {
            SetId = _setId,
            Ids = { _records[4].Id, _records[1].Id.ToUpperInvariant() },
            IncludeEmbeddings = true,
        });

        // Assert
        Assert.Multiple(() =>
        {
            Assert.That(response.Records.Select(r => r.Record.Id), Is.EqualTo(new[] { _records[4].Id, _records[1].Id }));
            Assert.That(response.Records[0].Record.Embedding, Is.EqualTo(_records[4].Embedding));
            Assert.That(response.Records[0].SetId, Is.EqualTo(_setId));
        });
    }

    [Test, CancelAfter(30_000)]
    public async Task CountRecords_DatasetAndMetadata_CountsMatches()
    {
        // Act: production = 0, 5, 10, 15, 20, 25; odd ones = 5, 15, 25.
        var response = await _server.Query.CountRecordsAsync(new CountRecordsRequest
        {
            SetId = _setId,
            Filter = new RecordFilter { Dataset = "production", Metadata = { ["parity"] = "odd" } },
        });

        // Assert
        Assert.That(response.Count, Is.EqualTo(3));
    }

    [Test, CancelAfter(30_000)]
    public async Task FindNearest_ByVectorInDataset_ReturnsNearestFirstWithSquaredDistance()
    {
        // Act
        var response = await _server.Query.FindNearestAsync(new FindNearestRequest
        {
            SetId = _setId,
            Embedding = new Vector { Values = { 9.5f, 0, 0, 0 } },
            K = 2,
            Dataset = "production",
        });

        // Assert: production records sit at 0, 5, 10, ...; 10 is 0.5 away, 5 is 4.5 away.
        Assert.Multiple(() =>
        {
            Assert.That(response.Neighbors.Select(n => n.Record.Record.Embedding.Count), Is.All.Zero, "embeddings not asked for");
            Assert.That(response.Neighbors.Select(n => n.Record.Record.Id), Is.EqualTo(new[] { _records[10].Id, _records[5].Id }));
            Assert.That(response.Neighbors.Select(n => n.Distance), Is.EqualTo(new[] { 0.25f, 20.25f }).Within(1e-4f));
        });
    }

    [Test, CancelAfter(30_000)]
    public async Task FindNearest_ByRecordId_StartsWithThatRecord()
    {
        // Act
        var response = await _server.Query.FindNearestAsync(new FindNearestRequest { SetId = _setId, RecordId = _records[12].Id, K = 3 });

        // Assert
        Assert.Multiple(() =>
        {
            Assert.That(response.Neighbors[0].Record.Record.Id, Is.EqualTo(_records[12].Id));
            Assert.That(response.Neighbors[0].Distance, Is.Zero);
            Assert.That(response.Neighbors.Skip(1).Select(n => n.Distance), Is.All.EqualTo(1f));
        });
    }

    [Test, CancelAfter(30_000)]
    public async Task TagThenDelete_OneRecord_TaggedCountedThenNeverANeighbour()
    {
        // Arrange
        var target = _records[29];

        // Act
        var tagged = await _server.Query.TagRecordsAsync(new TagRecordsRequest { SetId = _setId, Ids = { target.Id }, Tags = { ["review"] = "needed" } });
        var reviewCount = await _server.Query.CountRecordsAsync(new CountRecordsRequest { SetId = _setId, Filter = new RecordFilter { Metadata = { ["review"] = "needed" } } });
        var nearestBefore = await _server.Query.FindNearestAsync(new FindNearestRequest { SetId = _setId, Embedding = new Vector { Values = { 29, 0, 0, 0 } }, K = 1 });
        var deleted = await _server.Query.DeleteRecordsAsync(new DeleteRecordsRequest { SetId = _setId, Ids = { target.Id, Guid.NewGuid().ToString() } });
        var nearestAfter = await _server.Query.FindNearestAsync(new FindNearestRequest { SetId = _setId, Embedding = new Vector { Values = { 29, 0, 0, 0 } }, K = 1 });

        // Assert
        Assert.Multiple(() =>
        {
            Assert.That(tagged.Updated, Is.EqualTo(1));
            Assert.That(reviewCount.Count, Is.EqualTo(1));
            Assert.That(nearestBefore.Neighbors.Single().Record.Record.Id, Is.EqualTo(target.Id));
            Assert.That(deleted.Deleted, Is.EqualTo(1));
            Assert.That(nearestAfter.Neighbors.Single().Record.Record.Id, Is.EqualTo(_records[28].Id));
        });
    }

    [Test, CancelAfter(30_000)]
    public async Task TagRecords_MergedRecordWouldPassTheEntryLimit_InvalidArgumentNamingTheRecordAndNothingTagged()
    {
        // Arrange: a record at the limit (32 entries) and one with none; the tag adds a key the first lacks.
        var set = Records.Set(model: "tag-limit");
        var setId = Records.SetId(set);
        var full = Records.Make([1, 2, 3, 4], "production", metadata: Enumerable.Range(0, 32).ToDictionary(i => "k" + i, _ => "v"));
        var empty = Records.Make([2, 2, 3, 4], "production");
        Assert.That((await _server.LogAsync(Records.Batch(set, full, empty))).Single().Error, Is.Null);

        // Act
        var refused = Assert.ThrowsAsync<RpcException>(async () => await _server.Query.TagRecordsAsync(
            new TagRecordsRequest { SetId = setId, Ids = { empty.Id, full.Id }, Tags = { ["new"] = "x" } }));
        var overwrite = await _server.Query.TagRecordsAsync(new TagRecordsRequest { SetId = setId, Ids = { full.Id }, Tags = { ["k0"] = "w" } });
        var tagged = await _server.Query.CountRecordsAsync(new CountRecordsRequest { SetId = setId, Filter = new RecordFilter { Metadata = { ["new"] = "x" } } });

        // Assert
        Assert.That(refused!.StatusCode, Is.EqualTo(StatusCode.InvalidArgument));
        Assert.That(refused.Status.Detail, Does.Contain($"record {full.Id} would hold 33 metadata entries, limit 32"));
        Assert.That(tagged.Count, Is.Zero, "the record with room was not tagged either");
        Assert.That(overwrite.Updated, Is.EqualTo(1), "overwriting an existing key adds no entry");
    }

    public static IEnumerable<TestCaseData> BadQueries()
    {
        static TestCaseData Case(string name, Func<Query.QueryClient, string, Task> call, StatusCode code, string fragment) =>
            new TestCaseData(call, code, fragment).SetName("Query_" + name + "_" + code);

        yield return Case("CountUnknownSet", (q, _) => q.CountRecordsAsync(new CountRecordsRequest { SetId = "no-such/1/layer" }).ResponseAsync,
            StatusCode.NotFound, "no-such/1/layer");
        yield return Case("GetRecordsUnknownSet", (q, _) => q.GetRecordsAsync(new GetRecordsRequest { SetId = "no-such/2/layer" }).ResponseAsync,
            StatusCode.NotFound, "no-such/2/layer");
        yield return Case("CountEmptySetId", (q, _) => q.CountRecordsAsync(new CountRecordsRequest()).ResponseAsync,
            StatusCode.InvalidArgument, "set_id: is required");
        yield return Case("PageSizeTooLarge", (q, s) => q.GetRecordsAsync(new GetRecordsRequest { SetId = s, PageSize = 1001 }).ResponseAsync,
            StatusCode.InvalidArgument, "page_size: must be between 1 and 1000");
        yield return Case("BadPageToken", (q, s) => q.GetRecordsAsync(new GetRecordsRequest { SetId = s, PageToken = "garbage!" }).ResponseAsync,
            StatusCode.InvalidArgument, "page_token: is not a token this server issued");
        yield return Case("BadIdInIds", (q, s) => q.GetRecordsAsync(new GetRecordsRequest { SetId = s, Ids = { "nope" } }).ResponseAsync,
            StatusCode.InvalidArgument, "ids[0]: \"nope\" is not a UUID");
        yield return Case("UnknownId", (q, s) => q.GetRecordsAsync(new GetRecordsRequest { SetId = s, Ids = { "00000000-0000-7000-8000-000000000000" } }).ResponseAsync,
            StatusCode.NotFound, "ids: record 00000000-0000-7000-8000-000000000000 not found");
        yield return Case("BadFilterDataset", (q, s) => q.CountRecordsAsync(new CountRecordsRequest { SetId = s, Filter = new RecordFilter { Dataset = "a b" } }).ResponseAsync,
            StatusCode.InvalidArgument, "filter.dataset: character 2 (U+0020)");
        yield return Case("NearestKZero", (q, s) => q.FindNearestAsync(new FindNearestRequest { SetId = s, Embedding = new Vector { Values = { 1, 2, 3, 4 } } }).ResponseAsync,
            StatusCode.InvalidArgument, "k: must be between 1 and 1000, got 0");
        yield return Case("NearestNoQuery", (q, s) => q.FindNearestAsync(new FindNearestRequest { SetId = s, K = 1 }).ResponseAsync,
            StatusCode.InvalidArgument, "query: set either record_id or embedding");
        yield return Case("NearestWrongDimension", (q, s) => q.FindNearestAsync(new FindNearestRequest { SetId = s, K = 1, Embedding = new Vector { Values = { 1, 2 } } }).ResponseAsync,
            StatusCode.InvalidArgument, "embedding.values: has 2 values, the set's dimension is 4");
        yield return Case("NearestNaN", (q, s) => q.FindNearestAsync(new FindNearestRequest { SetId = s, K = 1, Embedding = new Vector { Values = { 1, float.NaN, 3, 4 } } }).ResponseAsync,
            StatusCode.InvalidArgument, "embedding.values[1]: value is NaN");
        yield return Case("NearestValueTooLarge", (q, s) => q.FindNearestAsync(new FindNearestRequest { SetId = s, K = 1, Embedding = new Vector { Values = { 1, 2, 3e38f, 4 } } }).ResponseAsync,
            StatusCode.InvalidArgument, "embedding.values[2]: value 3E+38 is too large");
        yield return Case("NearestUnknownRecord", (q, s) => q.FindNearestAsync(new FindNearestRequest { SetId = s, K = 1, RecordId = "00000000-0000-7000-8000-000000000001" }).ResponseAsync,
            StatusCode.NotFound, "record_id: record 00000000-0000-7000-8000-000000000001 not found");
        yield return Case("NearestBadRecordId", (q, s) => q.FindNearestAsync(new FindNearestRequest { SetId = s, K = 1, RecordId = "nope" }).ResponseAsync,
            StatusCode.InvalidArgument, "record_id: \"nope\" is not a UUID");
        yield return Case("DeleteNoIds", (q, s) => q.DeleteRecordsAsync(new DeleteRecordsRequest { SetId = s }).ResponseAsync,
            StatusCode.InvalidArgument, "ids: is empty");
        yield return Case("TagNoTags", (q, s) => q.TagRecordsAsync(new TagRecordsRequest { SetId = s, Ids = { "00000000-0000-7000-8000-000000000000" } }).ResponseAsync,
            StatusCode.InvalidArgument, "tags: is empty");
        yield return Case("NearestUnknownSet", (q, _) => q.FindNearestAsync(new FindNearestRequest { SetId = "no-such/3/layer", K = 1, RecordId = "00000000-0000-7000-8000-000000000001" }).ResponseAsync,
            StatusCode.NotFound, "set_id: embedding set 'no-such/3/layer' not found");
        yield return Case("DeleteUnknownSet", (q, _) => q.DeleteRecordsAsync(new DeleteRecordsRequest { SetId = "no-such/4/layer", Ids = { "00000000-0000-7000-8000-000000000000" } }).ResponseAsync,
            StatusCode.NotFound, "set_id: embedding set 'no-such/4/layer' not found");
        yield return Case("TagUnknownSet", (q, _) => q.TagRecordsAsync(new TagRecordsRequest { SetId = "no-such/5/layer", Ids = { "00000000-0000-7000-8000-000000000000" }, Tags = { ["k"] = "v" } }).ResponseAsync,
            StatusCode.NotFound, "set_id: embedding set 'no-such/5/layer' not found");
        yield return Case("NearestKNegative", (q, s) => q.FindNearestAsync(new FindNearestRequest { SetId = s, K = -5, Embedding = new Vector { Values = { 1, 2, 3, 4 } } }).ResponseAsync,
            StatusCode.InvalidArgument, "k: must be between 1 and 1000, got -5");
        yield return Case("NearestKHuge", (q, s) => q.FindNearestAsync(new FindNearestRequest { SetId = s, K = int.MaxValue, Embedding = new Vector { Values = { 1, 2, 3, 4 } } }).ResponseAsync,
            StatusCode.InvalidArgument, "k: must be between 1 and 1000, got 2147483647");
        yield return Case("NearestEmptyEmbedding", (q, s) => q.FindNearestAsync(new FindNearestRequest { SetId = s, K = 1, Embedding = new Vector() }).ResponseAsync,
            StatusCode.InvalidArgument, "embedding.values:");
        yield return Case("NearestInfinity", (q, s) => q.FindNearestAsync(new FindNearestRequest { SetId = s, K = 1, Embedding = new Vector { Values = { 1, 2, float.PositiveInfinity, 4 } } }).ResponseAsync,
            StatusCode.InvalidArgument, "embedding.values[2]: value is infinite");
        yield return Case("PageSizeNegative", (q, s) => q.GetRecordsAsync(new GetRecordsRequest { SetId = s, PageSize = -1 }).ResponseAsync,
            StatusCode.InvalidArgument, "page_size: must be between 1 and 1000");
        yield return Case("PageSizeHuge", (q, s) => q.GetRecordsAsync(new GetRecordsRequest { SetId = s, PageSize = int.MaxValue }).ResponseAsync,
            StatusCode.InvalidArgument, "page_size: must be between 1 and 1000");
        yield return Case("TagValueTooLarge", (q, s) => q.TagRecordsAsync(new TagRecordsRequest { SetId = s, Ids = { "00000000-0000-7000-8000-000000000000" }, Tags = { ["k"] = new string('v', 1025) } }).ResponseAsync,
            StatusCode.InvalidArgument, "tags[\"k\"]: value is 1025 characters, limit 1024");
        yield return Case("TagTooManyEntries", (q, s) => q.TagRecordsAsync(new TagRecordsRequest { SetId = s, Ids = { "00000000-0000-7000-8000-000000000000" }, Tags = { Enumerable.Range(0, 33).ToDictionary(i => "k" + i, _ => "v") } }).ResponseAsync,
            StatusCode.InvalidArgument, "tags: has 33 entries, limit 32");
        yield return Case("DeleteBadId", (q, s) => q.DeleteRecordsAsync(new DeleteRecordsRequest { SetId = s, Ids = { "not-a-uuid" } }).ResponseAsync,
            StatusCode.InvalidArgument, "ids[0]: \"not-a-uuid\" is not a UUID");
        yield return Case("FilterMetadataTooLarge", (q, s) => q.CountRecordsAsync(new CountRecordsRequest { SetId = s, Filter = new RecordFilter { Metadata = { ["k"] = new string('v', 1025) } } }).ResponseAsync,
            StatusCode.InvalidArgument, "filter.metadata[\"k\"]: value is 1025 characters");
        yield return Case("RecommendationsUnknownSet", (q, _) => q.GetRecommendationsAsync(new GetRecommendationsRequest { SetId = "no-such/3/layer" }).ResponseAsync,
            StatusCode.NotFound, "no-such/3/layer");
        yield return Case("RecommendationsOfTraining", (q, s) => q.GetRecommendationsAsync(new GetRecommendationsRequest { SetId = s, Filter = new RecordFilter { Dataset = "training" } }).ResponseAsync,
            StatusCode.InvalidArgument, "filter.dataset: training records are the reference and are not scored");
        yield return Case("RecommendationsUnknownStrategy", (q, s) => q.GetRecommendationsAsync(new GetRecommendationsRequest { SetId = s, Strategy = (RecommendationStrategy)99 }).ResponseAsync,
            StatusCode.InvalidArgument, "strategy: unknown value 99");
        yield return Case("RecommendationsBadPageToken", (q, s) => q.GetRecommendationsAsync(new GetRecommendationsRequest { SetId = s, PageToken = "garbage!" }).ResponseAsync,
            StatusCode.InvalidArgument, "page_token: is not a token this server issued");
        yield return Case("RecommendationsPageSizeTooLarge", (q, s) => q.GetRecommendationsAsync(new GetRecommendationsRequest { SetId = s, PageSize = 1001 }).ResponseAsync,
            StatusCode.InvalidArgument, "page_size: must be between 1 and 1000");
    }

    [Test, CancelAfter(30_000)]
    public void CountRecords_SetIdOf100000Characters_NotFoundWithBoundedMessage()
    {
        // Arrange: gRPC carries the message in a header; echoed whole, clients refused it from ~9,000 characters
        // (grpcio: ResourceExhausted, Grpc.Net.Client: Unavailable) instead of answering NotFound.
        var setId = new string('x', 100_000);

        // Act
        var error = Assert.ThrowsAsync<RpcException>(() => _server.Query.CountRecordsAsync(new CountRecordsRequest { SetId = setId }, deadline: DateTime.UtcNow.AddSeconds(20)).ResponseAsync);

        // Assert
        Assert.Multiple(() =>
        {
            Assert.That(error!.StatusCode, Is.EqualTo(StatusCode.NotFound), error.Status.Detail);
            Assert.That(error.Status.Detail, Is.EqualTo($"set_id: embedding set '{new string('x', 40)}...' (100000 characters, longer than any set id) not found"));
        });
    }

    [TestCaseSource(nameof(BadQueries)), CancelAfter(30_000)]
    public void Query_BadRequest_ThrowsStatusNamingTheProblem(Delegate call, StatusCode code, string fragment)
    {
        // Arrange (loosely typed: the generated client is internal to the server)
        var invoke = (Func<Query.QueryClient, string, Task>)call;

        // Act
        var ex = Assert.ThrowsAsync<RpcException>(() => invoke(_server.Query, _setId));

        // Assert
        Assert.Multiple(() =>
        {
            Assert.That(ex!.StatusCode, Is.EqualTo(code));
            Assert.That(ex.Status.Detail, Does.Contain(fragment));
        });
    }
}
