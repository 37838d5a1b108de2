using System.Diagnostics;
using Chroma.Server.Storage;
using Chroma.Server.Tests.TestSupport;

namespace Chroma.Server.Tests.Storage;

/// <summary>
/// The contract every <see cref="IRecordStore"/> and <see cref="IRecordScoreStore"/> keeps, whatever the
/// database: run once per provider by the concrete fixtures (<see cref="SqliteStoreContractTests"/>,
/// <see cref="PostgresStoreContractTests"/>), each on a real database.
/// </summary>
public abstract partial class StoreContractTests
{
    private static readonly Dictionary<string, string> Even = new() { ["parity"] = "even" };

    private StoreFixture _fixture = null!;
    private StoredEmbeddingSet _set = null!;
    private Protocol.V1.Record[] _records = null!;

    [SetUp]
    public async Task SetUpAsync() => _fixture = new StoreFixture(await CreateDatabaseAsync());

    [TearDown]
    public void TearDown() => _fixture?.Dispose();

    /// <summary>A new empty database of the provider under test.</summary>
    private protected abstract Task<ITestDatabase> CreateDatabaseAsync();

    /// <summary>Stores 20 records (16 training, 4 production; half "even") for the query tests.</summary>
    private async Task SeedAsync()
    {
        _records = Records.Sequence(20);
        await _fixture.IngestAsync(Records.Set(), _records);
        _set = _fixture.RequireSet(Records.Set());
    }

    [Test, CancelAfter(30_000)]
    public async Task IngestAsync_NewSet_StoresRecordsWithIncreasingSequences()
    {
        // Arrange
        var set = Records.Set();
        var records = Records.Sequence(3);

        // Act
        var outcome = await _fixture.IngestAsync(set, records);

        // Assert
        var page = _fixture.Store.GetRecords(_fixture.RequireSet(set), new RecordQuery(RecordSelection.All, 0, 10, IncludeEmbeddings: true));
        Assert.Multiple(() =>
        {
            Assert.That(outcome, Is.EqualTo(new IngestOutcome(3, 0, null)));
            Assert.That(page.Records.Select(r => r.Record.Id), Is.EqualTo(records.Select(r => r.Id)));
            Assert.That(page.Records.Select(r => r.Sequence), Is.Ordered.Ascending.And.Unique);
            Assert.That(page.Records[2].Record, Is.EqualTo(records[2]), "every field round-trips");
        });
    }

    [Test, CancelAfter(30_000)]
    public async Task IngestAsync_SameBatchTwice_SecondCountsDuplicatesAndStoresNothing()
    {
        // Arrange
        var set = Records.Set();
        var records = Records.Sequence(4);
        await _fixture.IngestAsync(set, records);

        // Act
        var again = await _fixture.IngestAsync(set, [.. records, .. Records.Sequence(1, start: 10)]);

        // Assert
        Assert.Multiple(() =>
        {
            Assert.That(again, Is.EqualTo(new IngestOutcome(1, 4, null)));
            Assert.That(_fixture.Store.CountRecords(_fixture.RequireSet(set), RecordSelection.All), Is.EqualTo(5));
        });
    }

    [Test, CancelAfter(30_000)]
    public async Task HoldsUnchanged_StoredLiveOrDeletedChangedOrUnknown_TrueOnlyForTheSameContent()
    {
        // Arrange
        await SeedAsync();
        await _fixture.Store.DeleteAsync(_set, [_records[1].Id]);
        var changed = _records[0].Clone();
        changed.Label = changed.Label + "x";

        // Act
        bool Holds(Protocol.V1.Record record) => _fixture.Store.HoldsUnchanged(_set, PreparedRecord.From(record, record.Id));

        // Assert: what IngestAsync counts as a duplicate, deleted records included (a re-send does not bring them back).
        Assert.Multiple(() =>
        {
            Assert.That(Holds(_records[0]), Is.True, "stored as sent");
            Assert.That(Holds(_records[1]), Is.True, "deleted, same content");
            Assert.That(Holds(changed), Is.False, "same id, other content");
            Assert.That(Holds(Records.Sequence(1, start: 500)[0]), Is.False, "not stored");
        });
    }

    [Test, CancelAfter(30_000)]
    public async Task IngestAsync_SameIdDifferentContent_RejectsWholeBatchWithAlreadyExists()
    {
        // Arrange
        var set = Records.Set();
        var stored = Records.Sequence(2);
        await _fixture.IngestAsync(set, stored);
        var changed = stored[1].Clone();
        changed.Label = "changed";
        var fresh = Records.Sequence(1, start: 50)[0];

        // Act
        var outcome = await _fixture.IngestAsync(set, fresh, changed);

        // Assert
        Assert.Multiple(() =>
        {
            Assert.That(outcome.Error?.Kind, Is.EqualTo(IngestRejectionKind.ConflictingRecord));
            Assert.That(outcome.Error?.RecordIndex, Is.EqualTo(1));
            Assert.That(outcome.Error?.Message, Does.Contain("records[1].id: " + stored[1].Id));
            Assert.That(_fixture.Store.CountRecords(_fixture.RequireSet(set), RecordSelection.All), Is.EqualTo(2), "the fresh record was rolled back");
        });
    }

    [Test, CancelAfter(30_000)]
    public async Task IngestAsync_ConcurrentGoodAndConflictingBatches_OnlyConflictingBatchRolledBack()
    {
        // Arrange: queued together, so the writer may commit them in one group transaction.
        var set = Records.Set();
        var stored = Records.Sequence(1);
        await _fixture.IngestAsync(set, stored);
        var changed = stored[0].Clone();
        changed.Label = "changed";
        var first = StoreFixture.Prepare(Records.Sequence(3, start: 10));
        var conflicting = StoreFixture.Prepare([.. Records.Sequence(2, start: 20), changed]);
        var last = StoreFixture.Prepare(Records.Sequence(4, start: 30));

        // Act
        var setId = Records.SetId(set);
        var outcomes = await Task.WhenAll(
            _fixture.Store.IngestAsync(setId, set, first),
            _fixture.Store.IngestAsync(setId, set, conflicting),
            _fixture.Store.IngestAsync(setId, set, last));

        // Assert
        var ids = _fixture.Store.GetRecords(_fixture.RequireSet(set), new RecordQuery(RecordSelection.All, 0, 100, false))
            .Records.Select(r => r.Record.Id).ToList();
        Assert.Multiple(() =>
        {
            Assert.That(outcomes[0], Is.EqualTo(new IngestOutcome(3, 0, null)));
            Assert.That(outcomes[1].Error?.Kind, Is.EqualTo(IngestRejectionKind.ConflictingRecord));
            Assert.That(outcomes[1].Error?.RecordIndex, Is.EqualTo(2));
            Assert.That(outcomes[2], Is.EqualTo(new IngestOutcome(4, 0, null)));
            Assert.That(ids, Has.Count.EqualTo(8));
            Assert.That(ids, Does.Not.Contain(conflicting[0].Id), "nothing of the rejected batch");
        });
    }

    [Test, CancelAfter(30_000)]
    public async Task IngestAsync_DimensionDiffersFromSet_RejectsNamingSetDimension()
    {
        // Arrange
        await _fixture.IngestAsync(Records.Set(dimension: 4), Records.Sequence(1));

        // Act
        var outcome = await _fixture.IngestAsync(Records.Set(dimension: 3), Records.Sequence(1, dimension: 3, start: 5));

        // Assert
        Assert.Multiple(() =>
        {
            Assert.That(outcome.Error?.Kind, Is.EqualTo(IngestRejectionKind.DimensionMismatch));
            Assert.That(outcome.Error?.Message, Does.StartWith("set.dimension: is 3, but embedding set 'model/1/fc' has dimension 4"));
        });
    }

    [Test, CancelAfter(30_000)]
    public async Task IngestAsync_ObserverAfterCommit_ReceivesSequencesInOrder()
    {
        // Arrange
        var set = Records.Set();
        var prepared = StoreFixture.Prepare(Records.Sequence(3));
        var seen = new List<long>();

        // Act
        _fixture.Observers.Add(new ChangeObserver(stored: (_, inserted) => seen.AddRange(inserted.Select(i => i.Sequence))));
        await _fixture.Store.IngestAsync(Records.SetId(set), set, prepared);

        // Assert
        var stored = _fixture.Store.GetRecords(_fixture.RequireSet(set), new RecordQuery(RecordSelection.All, 0, 10, false));
        Assert.That(seen, Is.EqualTo(stored.Records.Select(r => r.Sequence)));
    }

    [Test, CancelAfter(30_000)]
    public async Task Reopen_AfterIngest_KeepsSetsAndRecords()
    {
        // Arrange
        var set = Records.Set();
        await _fixture.IngestAsync(set, Records.Sequence(7));

        // Act
        _fixture.Reopen();

        // Assert
        var sets = _fixture.Store.ListSets();
        Assert.Multiple(() =>
        {
            Assert.That(sets.Single().Set.SetId, Is.EqualTo("model/1/fc"));
            Assert.That(sets.Single().Set.Dimension, Is.EqualTo(4));
            Assert.That(sets.Single().TotalRecords, Is.EqualTo(7));
        });
    }

    [Test, CancelAfter(60_000)]
    public async Task IngestAsync_FiftyThousand128dRecords_AllStoredAndRateReported()
    {
        // Arrange: 50 batches of 1000 records, the shape the client sends.
        const int batches = 50;
        const int perBatch = 1_000;
        var set = Records.Set(dimension: 128);
        var random = new Random(7);
        var prepared = Enumerable.Range(0, batches).Select(b => StoreFixture.Prepare(Enumerable.Range(0, perBatch).Select(_ =>
        {
            var embedding = new float[128];
            for (var d = 0; d < embedding.Length; d++)
            {
                embedding[d] = (float)random.NextDouble();
            }

            return Records.Make(embedding);
        }))).ToList();

        // Act
        var cpuBefore = Process.GetCurrentProcess().TotalProcessorTime;
        var stopwatch = Stopwatch.StartNew();
        foreach (var batch in prepared)
        {
            await _fixture.Store.IngestAsync(Records.SetId(set), set, batch);
        }

        stopwatch.Stop();
        var cpu = Process.GetCurrentProcess().TotalProcessorTime - cpuBefore;

        // Assert
        var rate = batches * perBatch / stopwatch.Elapsed.TotalSeconds;
        await TestContext.Out.WriteLineAsync(
            $"store ingest: {batches * perBatch:N0} records of 128-d in {stopwatch.Elapsed.TotalSeconds:F2} s = {rate:N0} records/s (CPU {cpu.TotalSeconds:F2} s = {batches * perBatch / cpu.TotalSeconds:N0} records per CPU-second)");
        Assert.That(_fixture.Store.CountRecords(_fixture.RequireSet(set), RecordSelection.All), Is.EqualTo(batches * perBatch));
    }

    [Test, CancelAfter(60_000)]
    public async Task GetRecords_PagesOfSeven_VisitEveryRecordOnceInOrder()
    {
        // Arrange
        await SeedAsync();
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

    [Test, CancelAfter(60_000)]
    public async Task CountRecords_DatasetAndMetadata_CountsOnlyMatches()
    {
        // Arrange: production = every 5th (0, 5, 10, 15); of those, even = 0 and 10.
        await SeedAsync();
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

    [Test, CancelAfter(60_000)]
    public async Task GetRecords_MetadataFilterWithoutEmbeddings_ReturnsMatchesWithEmptyEmbedding()
    {
        // Arrange
        await SeedAsync();

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

    [Test, CancelAfter(60_000)]
    public async Task GetRecordsByIds_KnownAndUnknown_ReturnsKnownInRequestOrder()
    {
        // Arrange
        await SeedAsync();
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
        await SeedAsync();
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
        await SeedAsync();
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
    public async Task RemoveTagsAsync_AfterTag_RemovesOnlyThoseKeysOfThoseRecords()
    {
        // Arrange
        await SeedAsync();
        var tags = new Dictionary<string, string> { ["review"] = "needed", ["parity"] = "checked" };
        await _fixture.Store.TagAsync(_set, [_records[0].Id, _records[1].Id], tags);

        // Act
        var updated = await _fixture.Store.RemoveTagsAsync(_set, [_records[0].Id], ["review", "absent"]);

        // Assert
        var first = _fixture.Store.GetRecordsByIds(_set, [_records[0].Id], false).Single().Record;
        var second = _fixture.Store.GetRecordsByIds(_set, [_records[1].Id], false).Single().Record;
        Assert.Multiple(() =>
        {
            Assert.That(updated, Is.EqualTo(1));
            Assert.That(first.Metadata, Is.EquivalentTo(new Dictionary<string, string> { ["parity"] = "checked" }));
            Assert.That(second.Metadata, Is.EquivalentTo(tags));
        });
    }

    [Test, CancelAfter(30_000)]
    public async Task TagAsync_ThenResendOriginal_CountsDuplicateNotConflict()
    {
        // Arrange
        await SeedAsync();
        await _fixture.Store.TagAsync(_set, [_records[5].Id], new Dictionary<string, string> { ["review"] = "done" });

        // Act
        var resent = await _fixture.IngestAsync(Records.Set(), _records[5]);

        // Assert
        Assert.That(resent, Is.EqualTo(new IngestOutcome(0, 1, null)));
    }

    [Test, CancelAfter(60_000)]
    public async Task ReadVectors_AllLive_VisitsEachWithDatasetAndReturnsHighWaterMark()
    {
        // Arrange
        await SeedAsync();
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

    [Test, CancelAfter(60_000)]
    public async Task ListSets_AfterIngest_ReportsCountsPerDatasetAndTimes()
    {
        // Arrange
        await SeedAsync();

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

    [Test, CancelAfter(60_000)]
    public async Task ListSets_AfterDeletesAndMoreIngest_CountsWhatAFreshCountFinds()
    {
        // Arrange: counted once (the counts are then kept and moved forward by the changes since)
        await SeedAsync();
        var other = Records.Set(model: "other");
        await _fixture.IngestAsync(other, Records.Sequence(3));
        var first = _fixture.Store.ListSets();

        // Act: deletions of records counted before, records stored after (one of them deleted too), a new dataset,
        // a dataset emptied; and a deletion of nothing
        await _fixture.Store.DeleteAsync(_set, [_records[0].Id, _records[1].Id, _records[5].Id]);
        var later = Records.Sequence(6, start: 20);
        later[0].Dataset = "audit";
        await _fixture.IngestAsync(Records.Set(), later);
        var between = _fixture.Store.ListSets();
        var last = Records.Sequence(2, start: 30);
        await _fixture.IngestAsync(Records.Set(), last);
        await _fixture.Store.DeleteAsync(_set, [later[1].Id, later[0].Id, _records[10].Id, _records[15].Id, last[1].Id]);
        await _fixture.Store.DeleteAsync(_set, [Guid.NewGuid().ToString()]);
        var after = _fixture.Store.ListSets();
        _fixture.Reopen();
        var fresh = _fixture.Store.ListSets();

        // Assert
        static Dictionary<string, long> Counts(IReadOnlyList<EmbeddingSetSummary> sets, string setId) =>
            sets.Single(s => s.Set.SetId == setId).DatasetCounts.ToDictionary(c => c.Key, c => c.Value);
        var setId = Records.SetId(Records.Set());
        Assert.Multiple(() =>
        {
            Assert.That(Counts(first, setId), Is.EqualTo(new Dictionary<string, long> { ["production"] = 4, ["training"] = 16 }));
            Assert.That(
                Counts(between, setId),
                Is.EqualTo(new Dictionary<string, long> { ["audit"] = 1, ["production"] = 3, ["training"] = 19 }),
                "deleted 0 and 5 (production) and 1 (training); stored 20 (audit), 21-24 (training) and 25 (production)");
            Assert.That(
                Counts(after, setId),
                Is.EqualTo(new Dictionary<string, long> { ["production"] = 2, ["training"] = 18 }),
                "then stored 30 (production) and 31, and deleted 21 and 20 (the audit dataset is gone), 10 and 15 (production) and 31 (stored after the last count)");
            Assert.That(Counts(after, setId), Is.EqualTo(Counts(fresh, setId)), "a count from scratch agrees");
            Assert.That(after.Select(s => s.Set.SetId), Is.EqualTo(fresh.Select(s => s.Set.SetId)));
            Assert.That(Counts(after, Records.SetId(other)), Is.EqualTo(Counts(first, Records.SetId(other))), "the other set untouched");
            Assert.That(after.Single(s => s.Set.SetId == setId).DatasetCounts.Select(c => c.Key), Is.Ordered.Using<string>(StringComparer.Ordinal));
        });
    }
}
