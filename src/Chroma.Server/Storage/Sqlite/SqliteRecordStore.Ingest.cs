using System.Threading.Channels;
using Chroma.Protocol.V1;
using Chroma.Server.Storage.Internal;
using Chroma.Server.Storage.Sqlite.Internal;
using Microsoft.Data.Sqlite;

namespace Chroma.Server.Storage.Sqlite;

/// <summary>
/// Batch ingest with group commit: batches from all streams queue up, and one writer loop commits
/// whatever is waiting in a single transaction (one fsync for many batches). Each batch runs inside
/// its own savepoint, so a rejected batch is rolled back alone and the others still commit.
/// </summary>
internal sealed partial class SqliteRecordStore
{
    // Bounds one transaction (and so the WAL growth and the latency of the first batch in it).
    private const int MaxRecordsPerGroup = 20_000;
    private const string BatchSavepoint = "batch";

    private readonly Channel<PendingIngest> _ingestQueue =
        Channel.CreateUnbounded<PendingIngest>(new UnboundedChannelOptions { SingleReader = true });

    private Task _ingestWriter = Task.CompletedTask;
    private RecordInsertStatement? _insert;
    private SqliteCommand? _findHash;

    /// <inheritdoc />
    public Task<IngestOutcome> IngestAsync(
        string setId,
        EmbeddingSetDescriptor descriptor,
        IReadOnlyList<PreparedRecord> records,
        CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(setId);
        ArgumentNullException.ThrowIfNull(descriptor);
        ArgumentNullException.ThrowIfNull(records);
        var pending = new PendingIngest(setId, descriptor, records);
        ObjectDisposedException.ThrowIf(!_ingestQueue.Writer.TryWrite(pending), this);

        // Cancelling stops the wait only: a queued batch is still committed (a re-send is a duplicate).
        return pending.Completion.Task.WaitAsync(cancellationToken);
    }

    private void StartIngestWriter() => _ingestWriter = Task.Run(WriteIngestGroupsAsync);

    private async Task WriteIngestGroupsAsync()
    {
        var group = new List<PendingIngest>();
        while (await _ingestQueue.Reader.WaitToReadAsync().ConfigureAwait(false))
        {
            group.Clear();
            var records = 0;
            while (records < MaxRecordsPerGroup && _ingestQueue.Reader.TryRead(out var pending))
            {
                group.Add(pending);
                records += pending.Records.Count;
            }

            IDisposable writeLock;
            try
            {
                writeLock = await _database.EnterWriteAsync().ConfigureAwait(false);
            }
            catch (ObjectDisposedException ex)
            {
                Fail(group, ex);
                continue;
            }

            using (writeLock)
            {
                CommitGroup(group);
            }
        }
    }

    private void CommitGroup(List<PendingIngest> group)
    {
        try
        {
            using var transaction = Writer.BeginTransaction();
            var now = _database.TimeProvider.GetUtcNow().ToUnixTimeMilliseconds();
            foreach (var pending in group)
            {
                transaction.Save(BatchSavepoint);
                pending.Outcome = IngestBatch(transaction, pending, now);
                if (pending.Outcome.Error is not null)
                {
                    transaction.Rollback(BatchSavepoint);
                    pending.Set = null;
                    pending.Inserted.Clear();
                }

                transaction.Release(BatchSavepoint);
            }

            _database.CommitWithFaults(transaction);
        }
#pragma warning disable CA1031 // Every waiting batch must hear about the failure; none may hang.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            Fail(group, SqliteDatabase.IsStorageFull(ex) ? _database.StorageFull(ex, EstimateBytes(group))
                : SqliteDatabase.IsUnwritable(ex) ? _database.Unwritable(ex)
                : new StoreUnavailableException("The SQLite database could not commit the batch.", ex));
            return;
        }

        _database.Space.ReportWritten();

        foreach (var pending in group)
        {
            if (pending.Set is { } set && pending.Inserted.Count > 0)
            {
                _sets.TryAdd(set.SetId, set);
                _observers.RecordsStored(set, pending.Inserted);
            }

            pending.Completion.TrySetResult(pending.Outcome!);
        }
    }

    // What the group would have added to the log, roughly: the vectors twice over (table and log pages), plus row overhead.
    private static long EstimateBytes(List<PendingIngest> group) =>
        group.Sum(p => (long)p.Records.Count * ((p.Descriptor.Dimension * 4L * 2) + 512));

    private static void Fail(List<PendingIngest> group, Exception exception)
    {
        foreach (var pending in group)
        {
            pending.Completion.TrySetException(exception);
        }
    }

    private IngestOutcome IngestBatch(SqliteTransaction transaction, PendingIngest pending, long now)
    {
        var descriptor = pending.Descriptor;
        var records = pending.Records;
        var setId = pending.SetId;
        var set = ReadSet(Writer, transaction, setId) ?? CreateSet(transaction, setId, descriptor, now);
        if (set.Dimension != descriptor.Dimension)
        {
            return IngestOutcome.Rejected(IngestRejections.DimensionMismatch(setId, descriptor.Dimension, set.Dimension));
        }

        if (SetMetricCheck.Check(set, descriptor, records) is { } metricProblem)
        {
            return IngestOutcome.Rejected(metricProblem);
        }

        pending.Set = set;
        var (insert, findHash) = PrepareIngestCommands(transaction, set.Key);
        var duplicates = 0;
        for (var i = 0; i < records.Count; i++)
        {
            var record = records[i];
            if (insert.Insert(set.Key, record) is long sequence)
            {
                pending.Inserted.Add(new InsertedRecord(sequence, record));
            }
            else if (StoredContent(findHash, record) is var (same, deleted) && same)
            {
                duplicates++;
            }
            else
            {
                return IngestOutcome.Rejected(deleted
                    ? IngestRejections.DeletedRecordReused(setId, record.Id, i)
                    : IngestRejections.ConflictingRecord(setId, record.Id, i));
            }
        }

        if (pending.Inserted.Count > 0)
        {
            TouchSet(transaction, set.Key, now, pending.Inserted[^1].Sequence);
        }

        return new IngestOutcome(pending.Inserted.Count, duplicates, null);
    }

    // Whether the stored record of the same id has the same content, and whether it was deleted.
    private static (bool Same, bool Deleted) StoredContent(SqliteCommand findHash, PreparedRecord record)
    {
        findHash.Parameters[1].Value = record.Id;
        using var reader = findHash.ExecuteReader();
        if (!reader.Read())
        {
            return (false, false);
        }

        var stored = (byte[])reader.GetValue(0);
        return (stored.AsSpan().SequenceEqual(record.ContentHash), reader.GetInt64(1) != 0);
    }

    private StoredEmbeddingSet CreateSet(SqliteTransaction transaction, string setId, EmbeddingSetDescriptor descriptor, long now)
    {
        using var command = Writer.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = """
            INSERT INTO embedding_sets (set_id, model, model_version, layer, dimension, metric, created_ms, updated_ms)
            VALUES ($id, $model, $version, $layer, $dimension, $metric, $now, $now)
            RETURNING set_key;
            """;
        command.Parameters.AddWithValue("$id", setId);
        command.Parameters.AddWithValue("$model", descriptor.Model);
        command.Parameters.AddWithValue("$version", descriptor.ModelVersion);
        command.Parameters.AddWithValue("$layer", descriptor.Layer);
        command.Parameters.AddWithValue("$dimension", descriptor.Dimension);
        var stored = descriptor.Clone();
        stored.Metric = SetMetrics.ForNewSet(descriptor.Metric);
        command.Parameters.AddWithValue("$metric", SetMetrics.ToName(stored.Metric));
        command.Parameters.AddWithValue("$now", now);
        var key = (long)command.ExecuteScalar()!;
        return new StoredEmbeddingSet(key, setId, stored);
    }

    private void TouchSet(SqliteTransaction transaction, long setKey, long now, long lastSequence)
    {
        // last_sequence: the set's change sequence, which a tailing index and a waiting query read.
        using var command = Writer.CreateCommand();
        command.Transaction = transaction;
        command.CommandText =
            "UPDATE embedding_sets SET updated_ms = MAX(updated_ms, $now), last_sequence = MAX(last_sequence, $last) WHERE set_key = $key;";
        command.Parameters.AddWithValue("$now", now);
        command.Parameters.AddWithValue("$last", lastSequence);
        command.Parameters.AddWithValue("$key", setKey);
        command.ExecuteNonQuery();
    }

    // Created once for the writer connection; SQLite keeps the compiled statements between batches.
    private (RecordInsertStatement Insert, SqliteCommand FindHash) PrepareIngestCommands(SqliteTransaction transaction, long setKey)
    {
        if (_insert is null || _findHash is null)
        {
            _insert = new RecordInsertStatement(Writer);
            _findHash = Writer.CreateCommand();
            _findHash.CommandText = "SELECT content_hash, deleted FROM records WHERE set_key = $set AND record_id = $id;";
            _findHash.Parameters.Add(new SqliteParameter { ParameterName = "$set" });
            _findHash.Parameters.Add(new SqliteParameter { ParameterName = "$id" });
        }

        _findHash.Transaction = transaction;
        _findHash.Parameters[0].Value = setKey;
        return (_insert, _findHash);
    }

    private void DisposeIngestCommands()
    {
        _insert?.Dispose();
        _findHash?.Dispose();
    }
}
