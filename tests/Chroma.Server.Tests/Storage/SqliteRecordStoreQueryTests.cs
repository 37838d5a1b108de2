using Chroma.Server.Storage;
using Chroma.Server.Tests.TestSupport;

namespace Chroma.Server.Tests.Storage;

[TestFixture]
public sealed class SqliteRecordStoreQueryTests
{
    private static readonly Dictionary<string, string> Even = new() { ["parity"] = "even" };

    private StoreFixture _fixture = null!;
    private StoredEmbeddingSet _set = null!;
    private Protocol.V1.Record[] _records = null!;

    [SetUp]
    public async Task SetUpAsync()
    {
        _fixture = new StoreFixture();
        _records = Records.Sequence(20);
        await _fixture.IngestAsync(Records.Set(), _records);
        _set = _fixture.RequireSet(Records.Set());
    }

    [TearDown]
    public void TearDown() => _fixture.Dispose();

    [Test]
    public void GetRecords_PagesOfSeven_VisitEveryRecordOnceInOrder()
    {
        // Arrange
        var seen = new List<string>();
        long after = 0;
        RecordPage page;

        // Act
        do
        {
            page = _fixture.Store.GetRecords(_set, new RecordQuery(RecordSelection.All, after, 7, false));
            seen.AddRange(page.Records.Select(r => r.Record.Id));
            after = page.Records.Count > 0 ? page.Records[^1].Sequence : after;
        }
        while (page.HasMore);

        // Assert
        Assert.That(seen, Is.EqualTo(_records.Select(r => r.Id)));
    }

    [Test]
    public void CountRecords_DatasetAndMetadata_CountsOnlyMatches()
    {
        // Arrange: production = every 5th (0, 5, 10, 15); of those, even = 0 and 10.
        var selection = new RecordSelection("production", Even);

        // Act
        var count = _fixture.Store.CountRecords(_set, selection);
        var training = _fixture.Store.CountRecords(_set, new RecordSelection("training", new Dictionary<string, string>()));

        // Assert
        Assert.Multiple(() =>
        {
            Assert.That(count, Is.EqualTo(2));
            Assert.That(training, Is.EqualTo(16));
        });
    }

    [Test]
    public void GetRecords_MetadataFilterWithoutEmbeddings_ReturnsMatchesWithEmptyEmbedding()
    {
        // Act
        var page = _fixture.Store.GetRecords(_set, new RecordQuery(new RecordSelection(null, Even), 0, 100, false));

        // Assert
        Assert.Multiple(() =>
        {
            Assert.That(page.Records, Has.Count.EqualTo(10));
            Assert.That(page.Records.All(r => r.Record.Metadata["parity"] == "even"), Is.True);
            Assert.That(page.Records.All(r => r.Record.Embedding.Count == 0), Is.True);
        });
    }

    [Test]
    public void GetRecordsByIds_KnownAndUnknown_ReturnsKnownInRequestOrder()
    {
        // Arrange
        var ids = new[] { _records[9].Id, Guid.NewGuid().ToString(), _records[2].Id };

        // Act
        var found = _fixture.Store.GetRecordsByIds(_set, ids, includeEmbeddings: true);

        // Assert
        Assert.Multiple(() =>
        {
            Assert.That(found.Select(r => r.Record.Id), Is.EqualTo(new[] { _records[9].Id, _records[2].Id }));
            Assert.That(found[0].Record.Embedding[0], Is.EqualTo(9f));
        });
    }

    [Test, CancelAfter(30_000)]
    public async Task DeleteAsync_ThenResendOriginal_StaysDeletedAndCountsDuplicate()
    {
        // Arrange
        var deletedSequences = new List<long>();

        // Act
        _fixture.Observers.Add(new ChangeObserver(deleted: (_, sequences) => deletedSequences.AddRange(sequences)));
        var deleted = await _fixture.Store.DeleteAsync(_set, [_records[3].Id, _records[4].Id, Guid.NewGuid().ToString()]);
        var again = await _fixture.Store.DeleteAsync(_set, [_records[3].Id]);
        var resent = await _fixture.IngestAsync(Records.Set(), _records[3]);

        // Assert
        Assert.Multiple(() =>
        {
            Assert.That(deleted, Is.EqualTo(2));
            Assert.That(deletedSequences, Has.Count.EqualTo(2));
            Assert.That(again, Is.Zero);
            Assert.That(resent, Is.EqualTo(new IngestOutcome(0, 1, null)));
            Assert.That(_fixture.Store.CountRecords(_set, RecordSelection.All), Is.EqualTo(18));
            Assert.That(_fixture.Store.GetRecordsByIds(_set, [_records[3].Id], false), Is.Empty);
        });
    }

    [Test, CancelAfter(30_000)]
    public async Task TagAsync_MergesTags_OverwritesExistingKeysAndKeepsOthers()
    {
        // Arrange
        var tags = new Dictionary<string, string> { ["review"] = "needed", ["parity"] = "checked" };

        // Act
        var updated = await _fixture.Store.TagAsync(_set, [_records[0].Id, _records[1].Id], tags);

        // Assert
        var record = _fixture.Store.GetRecordsByIds(_set, [_records[0].Id], false).Single().Record;
        Assert.Multiple(() =>
        {
            Assert.That(updated, Is.EqualTo(2));
            Assert.That(record.Metadata, Is.EquivalentTo(new Dictionary<string, string> { ["review"] = "needed", ["parity"] = "checked" }));
            Assert.That(_fixture.Store.CountRecords(_set, new RecordSelection(null, new Dictionary<string, string> { ["review"] = "needed" })), Is.EqualTo(2));
        });
    }

    [Test, CancelAfter(30_000)]
    public async Task TagAsync_ThenResendOriginal_CountsDuplicateNotConflict()
    {
        // Arrange
        await _fixture.Store.TagAsync(_set, [_records[5].Id], new Dictionary<string, string> { ["review"] = "done" });

        // Act
        var resent = await _fixture.IngestAsync(Records.Set(), _records[5]);

        // Assert
        Assert.That(resent, Is.EqualTo(new IngestOutcome(0, 1, null)));
    }

    [Test]
    public void ReadVectors_AllLive_VisitsEachWithDatasetAndReturnsHighWaterMark()
    {
        // Arrange
        var visited = new List<(long Sequence, float First, string Dataset)>();

        // Act
        var highWater = _fixture.Store.ReadVectors(_set, (sequence, vector, dataset) => visited.Add((sequence, vector[0], dataset)));

        // Assert
        Assert.Multiple(() =>
        {
            Assert.That(visited.Select(v => v.First), Is.EqualTo(Enumerable.Range(0, 20).Select(i => (float)i)));
            Assert.That(visited.Count(v => v.Dataset == "production"), Is.EqualTo(4));
            Assert.That(highWater, Is.EqualTo(visited[^1].Sequence));
        });
    }

    [Test]
    public void ListSets_AfterIngest_ReportsCountsPerDatasetAndTimes()
    {
        // Act
        var summary = _fixture.Store.ListSets().Single();

        // Assert
        Assert.Multiple(() =>
        {
            Assert.That(summary.DatasetCounts, Is.EqualTo(new[] { new KeyValuePair<string, long>("production", 4), new KeyValuePair<string, long>("training", 16) }));
            Assert.That(summary.TotalRecords, Is.EqualTo(20));
            Assert.That(summary.CreatedUnixMs, Is.EqualTo(1_700_000_000_000));
            Assert.That(summary.UpdatedUnixMs, Is.EqualTo(1_700_000_000_000));
        });
    }
}
