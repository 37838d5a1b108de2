using Chroma.Protocol.V1;
using Chroma.Server.Storage.Internal;
using Chroma.Server.Validation;
using Grpc.Core;
using Microsoft.Data.Sqlite;

namespace Chroma.Server.Storage;

/// <summary>Batch ingest: one transaction per batch, statements prepared once and reused.</summary>
internal sealed partial class SqliteRecordStore
{
    private RecordInsertStatement? _insert;
    private SqliteCommand? _findHash;

    /// <inheritdoc />
    public async Task<IngestOutcome> IngestAsync(
        EmbeddingSetDescriptor descriptor,
        IReadOnlyList<PreparedRecord> records,
        RecordsCommitted? onCommitted = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(descriptor);
        ArgumentNullException.ThrowIfNull(records);
        using var writeLock = await EnterWriteAsync(cancellationToken).ConfigureAwait(false);

        var setId = SetDescriptorValidator.SetId(descriptor);
        var inserted = new List<InsertedRecord>(records.Count);
        var duplicates = 0;
        StoredEmbeddingSet set;
        using (var transaction = _writer.BeginTransaction())
        {
            var now = _timeProvider.GetUtcNow().ToUnixTimeMilliseconds();
            set = ReadSet(_writer, transaction, setId) ?? CreateSet(transaction, setId, descriptor, now);
            if (set.Dimension != descriptor.Dimension)
            {
                return IngestOutcome.Rejected(ValidationError.Invalid(
                    $"set.dimension: is {descriptor.Dimension}, but embedding set '{setId}' has dimension {set.Dimension}"));
            }

            var (insert, findHash) = PrepareIngestCommands(transaction, set.Key);
            for (var i = 0; i < records.Count; i++)
            {
                var record = records[i];
                if (insert.Insert(set.Key, record) is long sequence)
                {
                    inserted.Add(new InsertedRecord(sequence, record));
                }
                else if (HasSameContent(findHash, record))
                {
                    duplicates++;
                }
                else
                {
                    // Disposing the transaction rolls back: nothing of the batch is kept.
                    return IngestOutcome.Rejected(new ValidationError(StatusCode.AlreadyExists,
                        $"records[{i}].id: {record.Id} is already stored in '{setId}' with different content", i));
                }
            }

            if (inserted.Count > 0)
            {
                TouchSet(transaction, set.Key, now);
            }

            transaction.Commit();
        }

        _sets.TryAdd(setId, set);
        if (inserted.Count > 0)
        {
            onCommitted?.Invoke(set, inserted);
        }

        return new IngestOutcome(inserted.Count, duplicates, null);
    }

    private static bool HasSameContent(SqliteCommand findHash, PreparedRecord record)
    {
        findHash.Parameters[1].Value = record.Id;
        return findHash.ExecuteScalar() is byte[] stored && stored.AsSpan().SequenceEqual(record.ContentHash);
    }

    private StoredEmbeddingSet CreateSet(SqliteTransaction transaction, string setId, EmbeddingSetDescriptor descriptor, long now)
    {
        using var command = _writer.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = """
            INSERT INTO embedding_sets (set_id, model, model_version, layer, dimension, created_ms, updated_ms)
            VALUES ($id, $model, $version, $layer, $dimension, $now, $now)
            RETURNING set_key;
            """;
        command.Parameters.AddWithValue("$id", setId);
        command.Parameters.AddWithValue("$model", descriptor.Model);
        command.Parameters.AddWithValue("$version", descriptor.ModelVersion);
        command.Parameters.AddWithValue("$layer", descriptor.Layer);
        command.Parameters.AddWithValue("$dimension", descriptor.Dimension);
        command.Parameters.AddWithValue("$now", now);
        var key = (long)command.ExecuteScalar()!;
        return new StoredEmbeddingSet(key, setId, descriptor.Clone());
    }

    private void TouchSet(SqliteTransaction transaction, long setKey, long now)
    {
        using var command = _writer.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = "UPDATE embedding_sets SET updated_ms = MAX(updated_ms, $now) WHERE set_key = $key;";
        command.Parameters.AddWithValue("$now", now);
        command.Parameters.AddWithValue("$key", setKey);
        command.ExecuteNonQuery();
    }

    // Created once for the writer connection; SQLite keeps the compiled statements between batches.
    private (RecordInsertStatement Insert, SqliteCommand FindHash) PrepareIngestCommands(SqliteTransaction transaction, long setKey)
    {
        if (_insert is null || _findHash is null)
        {
            _insert = new RecordInsertStatement(_writer);
            _findHash = _writer.CreateCommand();
            _findHash.CommandText = "SELECT content_hash FROM records WHERE set_key = $set AND record_id = $id;";
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
