using Microsoft.Extensions.Logging;
using Chroma.Protocol.V1;
using Chroma.Server.Indexing;
using Chroma.Server.Storage;
using Chroma.Server.Tests.Indexing.Hnsw;
using Chroma.Server.Tests.TestSupport;

namespace Chroma.Server.Tests.Indexing;

[TestFixture]
public sealed class IndexPersistenceTests
{
    private const int Dimension = 8;
    private static readonly EmbeddingSetDescriptor Set = Records.Set(Dimension);

    private IndexRegistryFixture _fixture = null!;
    private float[][] _vectors = null!;
    private Record[] _records = null!;

    [SetUp]
    public void SetUp()
    {
        // Threshold 0: HNSW from the first record, so even a small set is saved.
        _fixture = new IndexRegistryFixture(threshold: 0);
        _vectors = TestVectors.Uniform(130, Dimension, seed: 11);
        _records = [.. _vectors.Select((v, i) => Records.Make(v, dataset: i % 4 == 0 ? "production" : "training"))];
    }

    [TearDown]
    public void TearDown() => _fixture.Dispose();

    [Test, CancelAfter(30_000)]
    public async Task Restart_AfterSave_LoadsFileAndCatchesUpOnlyLaterChanges(CancellationToken cancellationToken)
    {
        // Arrange: 100 indexed and saved; then, with no index listening, 30 more stored and 5 deleted.
        var set = await IndexAndSaveAsync(100);
        await _fixture.IngestUnindexedAsync(Set, _records[100..]);
        await _fixture.DeleteUnindexedAsync(set, [.. _records[..5].Select(r => r.Id)]).WaitAsync(cancellationToken);
        var expected = await ExactAnswersAsync(set, cancellationToken);

        // Act
        _fixture.Restart();
        await _fixture.Indexes.LoadAsync(set).WaitAsync(cancellationToken);
        var actual = await AnswersAsync(set, cancellationToken);

        // Assert
        Assert.Multiple(() =>
        {
            Assert.That(_fixture.Indexes.GetLoadReport(set), Is.EqualTo(new IndexLoadReport(FromFile: true, RecordsReadFromStore: 30, DeletionsCaughtUp: 5)));
            Assert.That(actual, Is.EqualTo(expected), "the same neighbours as an exact scan of the store");
        });
    }

    [Test, CancelAfter(30_000)]
    public async Task Restart_RecordsAfterTheSave_StagedAtLoadSoQueriesFindThemAtOnceThenLinkedByTheWorker(CancellationToken cancellationToken)
    {
        // Arrange: 100 indexed and saved; 30 more stored while no index listened (a crash before the next save).
        var set = await IndexAndSaveAsync(100);
        await _fixture.IngestUnindexedAsync(Set, _records[100..]);
        var expected = await ExactAnswersAsync(set, cancellationToken);

        // Act: the load, with no worker turn yet; then the worker's turns.
        _fixture.Restart();
        var index = await _fixture.Indexes.LoadAsync(set).WaitAsync(cancellationToken);
        var stagedAtLoad = index.PendingCount;
        var linkedAtLoad = index.Count - index.PendingCount;
        var atLoad = await AnswersAsync(set, cancellationToken);
        await _fixture.Indexes.ApplyQueuedAsync();
        var stagedAfter = index.PendingCount;
        var after = await AnswersAsync(set, cancellationToken);

        // Assert
        Assert.Multiple(() =>
        {
            Assert.That(stagedAtLoad, Is.EqualTo(30), "the load stages the records after the save instead of linking them first");
            Assert.That(linkedAtLoad, Is.EqualTo(100));
            Assert.That(atLoad, Is.EqualTo(expected), "found by the queries at once");
            Assert.That(stagedAfter, Is.Zero, "the worker links them behind (woken by the load)");
            Assert.That(after, Is.EqualTo(expected));
        });
    }

    [Test, CancelAfter(30_000)]
    public async Task Restart_NothingChangedSinceSave_ReadsNoRecordsAndAnswersIdentically(CancellationToken cancellationToken)
    {
        // Arrange
        var set = await IndexAndSaveAsync(130);
        var before = await AnswersAsync(set, cancellationToken);

        // Act
        _fixture.Restart();
        var after = await AnswersAsync(set, cancellationToken);

        // Assert
        Assert.Multiple(() =>
        {
            Assert.That(_fixture.Indexes.GetLoadReport(set), Is.EqualTo(new IndexLoadReport(true, 0, 0)));
            Assert.That(after, Is.EqualTo(before));
            Assert.That(_fixture.Indexes.SaveChanged(), Is.Zero, "an unchanged loaded index is not written again");
        });
    }

    [TestCase(true, TestName = "Restart_CorruptFile_RebuildsFromStoreWithWarning")]
    [TestCase(false, TestName = "Restart_TruncatedFile_RebuildsFromStoreWithWarning")]
    [CancelAfter(30_000)]
    public async Task Restart_DamagedFile_RebuildsFromStoreWithWarning(bool flipByte, CancellationToken cancellationToken)
    {
        // Arrange
        var set = await IndexAndSaveAsync(130);
        var expected = await ExactAnswersAsync(set, cancellationToken);
        var path = Directory.GetFiles(_fixture.Indexes.IndexDirectory, "*.hnsw").Single();
        var bytes = await File.ReadAllBytesAsync(path, cancellationToken);
        if (flipByte)
        {
            bytes[bytes.Length / 2] ^= 0x5A;
        }
        else
        {
            bytes = bytes[..(bytes.Length / 3)];
        }

        await File.WriteAllBytesAsync(path, bytes, cancellationToken);

        // Act
        _fixture.Restart();
        var actual = await AnswersAsync(set, cancellationToken);

        // Assert
        Assert.Multiple(() =>
        {
            Assert.That(_fixture.Indexes.GetLoadReport(set), Is.EqualTo(new IndexLoadReport(false, 130, 0)));
            Assert.That(actual, Is.EqualTo(expected));
            Assert.That(_fixture.Log.Entries.Any(e => e.Level == LogLevel.Warning && e.Message.Contains("unusable", StringComparison.Ordinal)), Is.True);
        });
    }

    [Test, CancelAfter(30_000)]
    public async Task Restart_DatabaseRestoredFromOlderBackup_IgnoresFileSavedAheadOfTheStore(CancellationToken cancellationToken)
    {
        // Arrange: a backup after 50 records; 50 more indexed and saved; then the backup put back as chroma.db (the
        // index folder kept), and 50 other records stored, which take the sequences the lost ones had in the file.
        await _fixture.IngestAsync(Set, _records[..50]);
        var backup = Path.Combine(_fixture.Store.Directory.Path, "backup.db");
        BackUp(backup);
        var set = await IndexAndSaveAsync(100);
        _fixture.Indexes.Dispose();
        _fixture.Store.Storage.Dispose();
        var database = Path.Combine(_fixture.Store.Directory.Path, "chroma.db");
        foreach (var stale in new[] { "-wal", "-shm" })
        {
            File.Delete(database + stale);
        }

        File.Copy(backup, database, overwrite: true);
        _fixture.Store.Reopen();
        _fixture.Restart();
        await _fixture.IngestUnindexedAsync(Set, _records[100..]);
        var expected = await ExactAnswersAsync(set, cancellationToken);

        // Act
        await _fixture.Indexes.LoadAsync(set).WaitAsync(cancellationToken);
        await _fixture.Indexes.ApplyQueuedAsync();
        var actual = await AnswersAsync(set, cancellationToken);

        // Assert
        Assert.Multiple(() =>
        {
            Assert.That(_fixture.Indexes.GetLoadReport(set)?.FromFile, Is.False, "the file reflects sequences the store never reached");
            Assert.That(actual, Is.EqualTo(expected), "the same neighbours as an exact scan of the restored store");
        });
    }

    private async Task<StoredEmbeddingSet> IndexAndSaveAsync(int count)
    {
        await _fixture.IngestAsync(Set, _records[..count]);
        var set = _fixture.Store.RequireSet(Set);
        await _fixture.Indexes.ApplyQueuedAsync();
        Assert.That(_fixture.Indexes.SaveChanged(), Is.EqualTo(1), "the changed index is saved");
        return set;
    }

    // A consistent copy as `chroma-server backup` takes it (VACUUM INTO: the AUTOINCREMENT counter comes along).
    private void BackUp(string path)
    {
        using var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={Path.Combine(_fixture.Store.Directory.Path, "chroma.db")};Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "VACUUM INTO $path";
        command.Parameters.AddWithValue("$path", path);
        command.ExecuteNonQuery();
    }

    /// <summary>Record ids of the 5 nearest (all datasets, then training only) for a few fixed queries.</summary>
    private async Task<List<string>> AnswersAsync(StoredEmbeddingSet set, CancellationToken cancellationToken)
    {
        var answers = new List<string>();
        foreach (var query in TestVectors.Uniform(10, Dimension, seed: 99))
        {
            foreach (var dataset in new[] { null, "training" })
            {
                var found = await _fixture.Indexes.SearchAsync(set, query, 5, dataset, cancellationToken);
                var records = _fixture.Store.Store.GetRecordsBySequence(set, [.. found.Select(n => n.Sequence)], false);
                answers.Add(string.Join(',', records.Select(r => r.Record.Id)));
            }
        }

        return answers;
    }

    /// <summary>The same answers from an exact scan of what the store holds now.</summary>
    private Task<List<string>> ExactAnswersAsync(StoredEmbeddingSet set, CancellationToken cancellationToken)
    {
        var stored = new List<(long Sequence, float[] Vector, string Dataset)>();
        _fixture.Store.Store.ReadVectors(set, (s, v, d) => stored.Add((s, v.ToArray(), d)));
        var answers = new List<string>();
        foreach (var query in TestVectors.Uniform(10, Dimension, seed: 99))
        {
            foreach (var dataset in new[] { null, "training" })
            {
                var nearest = stored.Where(r => dataset is null || r.Dataset == dataset)
                    .OrderBy(r => r.Vector.Zip(query, (a, b) => (double)(a - b) * (a - b)).Sum())
                    .Take(5).Select(r => r.Sequence).ToList();
                var records = _fixture.Store.Store.GetRecordsBySequence(set, nearest, false);
                answers.Add(string.Join(',', records.Select(r => r.Record.Id)));
            }
        }

        cancellationToken.ThrowIfCancellationRequested();
        return Task.FromResult(answers);
    }
}
