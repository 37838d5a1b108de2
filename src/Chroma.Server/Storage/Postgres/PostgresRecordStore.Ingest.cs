using System.Threading.Channels;
using Chroma.Protocol.V1;
using Chroma.Server.Storage.Internal;
using Chroma.Server.Storage.Postgres.Internal;
using Npgsql;
using NpgsqlTypes;

namespace Chroma.Server.Storage.Postgres;

/// <summary>
/// Batch ingest with group commit: one writer loop per server commits whatever is queued in one
/// transaction, each batch inside its own savepoint so a rejected batch rolls back alone. A batch's
/// new records take the fast path: binary COPY into a session staging table, then one
/// <c>INSERT ... SELECT ... ON CONFLICT DO NOTHING</c> with sequences from the set's row.
/// </summary>
internal sealed partial class PostgresRecordStore
{
    // Bounds one transaction (and so the latency of the first batch in it).
    private const int MaxRecordsPerGroup = 20_000;
    private const string BatchSavepoint = "batch";
    private const string AllNewSavepoint = "all_new";

    private const string StagingTable = """
        CREATE TEMP TABLE IF NOT EXISTS chroma_staging (
            ord                 bigint NOT NULL,
            record_id           text   NOT NULL,
            dataset             text   NOT NULL,
            embedding           bytea  NOT NULL,
            input_uri           text,
            predicted_class     text,
            class_probabilities bytea,
            class_names         text,
            label               text,
            metadata            jsonb,
            timestamp_ms        bigint NOT NULL,
            content_hash        bytea  NOT NULL
        ) ON COMMIT DELETE ROWS;
        """;

    private const string CopyStaging = """
        COPY chroma_staging (ord, record_id, dataset, embedding, input_uri, predicted_class, class_probabilities,
                             class_names, label, metadata, timestamp_ms, content_hash) FROM STDIN (FORMAT BINARY)
        """;

    private const string InsertFromStaging = """
        INSERT INTO records (set_key, sequence, record_id, dataset, embedding, input_uri, predicted_class,
                             class_probabilities, class_names, label, metadata, timestamp_ms, content_hash)
        SELECT $1, $2 + s.ord, s.record_id, s.dataset, s.embedding, s.input_uri, s.predicted_class,
               s.class_probabilities, s.class_names, s.label, s.metadata, s.timestamp_ms, s.content_hash
        FROM chroma_staging s ORDER BY s.ord
        ON CONFLICT (set_key, record_id) DO NOTHING;
        """;

    private readonly Channel<PendingIngest> _ingestQueue =
        Channel.CreateUnbounded<PendingIngest>(new UnboundedChannelOptions { SingleReader = true });

    private Task _ingestWriter = Task.CompletedTask;

    /// <summary>Gets or sets a hook run just before each group's COMMIT (tests hold a transaction open with it).</summary>
    internal Func<Task>? BeforeCommitAsync { get; set; }

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

    private static void Fail(List<PendingIngest> group, Exception exception)
    {
        foreach (var pending in group)
        {
            pending.Completion.TrySetException(exception);
        }
    }

    private static async Task<IngestOutcome> IngestBatchAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, PendingIngest pending, long now)
    {
        var descriptor = pending.Descriptor;
        var records = pending.Records;
        var setId = pending.SetId;
        if (PostgresText.Unstorable(records) is { } unstorable)
        {
            return IngestOutcome.Rejected(unstorable);
        }

        // The set's row lock is held to COMMIT: writers of one set (on any server) take turns, so their
        // sequences commit in order.
        var set = ReadSet(connection, transaction, setId, forUpdate: true)
            ?? CreateSet(connection, transaction, setId, descriptor, now)
            ?? ReadSet(connection, transaction, setId, forUpdate: true)!;
        if (set.Dimension != descriptor.Dimension)
        {
            return IngestOutcome.Rejected(IngestRejections.DimensionMismatch(setId, descriptor.Dimension, set.Dimension));
        }

        if (SetMetricCheck.Check(set, descriptor, records) is { } metricProblem)
        {
            return IngestOutcome.Rejected(metricProblem);
        }

        pending.Set = set;
        if (await TryInsertAllAsync(connection, transaction, pending, set.Key, now).ConfigureAwait(false))
        {
            return new IngestOutcome(pending.Inserted.Count, 0, null);
        }

        var stored = ReadStoredHashes(connection, transaction, set.Key, records);
        var firstInBatch = new Dictionary<string, int>(records.Count, StringComparer.Ordinal);
        var fresh = new List<PreparedRecord>(records.Count);
        var duplicates = 0;
        for (var i = 0; i < records.Count; i++)
        {
            var record = records[i];
            byte[]? earlier = stored.TryGetValue(record.Id, out var storedRow) ? storedRow.Hash
                : firstInBatch.TryGetValue(record.Id, out var first) ? records[first].ContentHash
                : null;
            var deleted = storedRow.Deleted;
            if (earlier is null)
            {
                firstInBatch[record.Id] = i;
                fresh.Add(record);
            }
            else if (earlier.AsSpan().SequenceEqual(record.ContentHash))
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

        if (fresh.Count > 0)
        {
            var last = AllocateSequences(connection, transaction, set.Key, fresh.Count, now);
            var first = last - fresh.Count;
            await CopyToStagingAsync(connection, fresh).ConfigureAwait(false);
            var inserted = await InsertFromStagingAsync(connection, transaction, set.Key, first).ConfigureAwait(false);
            if (inserted != fresh.Count)
            {
                // Cannot happen while the set's row is locked; if it does, fail the group rather than ack a gap.
                throw new InvalidOperationException($"Inserted {inserted} of {fresh.Count} new records of '{setId}'.");
            }

            for (var i = 0; i < fresh.Count; i++)
            {
                pending.Inserted.Add(new InsertedRecord(first + i + 1, fresh[i]));
            }

            // Delivered at COMMIT to every server listening (their indexes tail the set); dropped with a rollback.
            await PostgresChangeNotice.SendAsync(connection, transaction, set.Key, last).ConfigureAwait(false);
        }

        return new IngestOutcome(pending.Inserted.Count, duplicates, null);
    }

    /// <summary>
    /// The common case, every record of the batch new: sequences for all, one COPY, one INSERT, without first reading the
    /// stored hashes of the batch's ids (that read cost PostgreSQL more than the insert: its plan visited the set's rows
    /// for each batch). When any id is already stored (a re-send, a conflict, an id twice in the batch) the attempt rolls
    /// back to its own savepoint and returns false, and the caller takes the path that compares content hashes.
    /// </summary>
    private static async Task<bool> TryInsertAllAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, PendingIngest pending, long setKey, long now)
    {
        var records = pending.Records;
        await transaction.SaveAsync(AllNewSavepoint).ConfigureAwait(false);
        var last = AllocateSequences(connection, transaction, setKey, records.Count, now);
        var first = last - records.Count;
        await CopyToStagingAsync(connection, records).ConfigureAwait(false);
        var inserted = await InsertFromStagingAsync(connection, transaction, setKey, first).ConfigureAwait(false);
        if (inserted != records.Count)
        {
            await transaction.RollbackAsync(AllNewSavepoint).ConfigureAwait(false);
            await transaction.ReleaseAsync(AllNewSavepoint).ConfigureAwait(false);
            return false;
        }

        await transaction.ReleaseAsync(AllNewSavepoint).ConfigureAwait(false);
        for (var i = 0; i < records.Count; i++)
        {
            pending.Inserted.Add(new InsertedRecord(first + i + 1, records[i]));
        }

        await PostgresChangeNotice.SendAsync(connection, transaction, setKey, last).ConfigureAwait(false);
        return true;
    }

    private static async Task<int> InsertFromStagingAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, long setKey, long first)
    {
        using var insert = new NpgsqlCommand(InsertFromStaging, connection, transaction);
        insert.Parameters.Add(new NpgsqlParameter { Value = setKey });
        insert.Parameters.Add(new NpgsqlParameter { Value = first });
        return await insert.ExecuteNonQueryAsync().ConfigureAwait(false);
    }

    private static StoredEmbeddingSet? CreateSet(
        NpgsqlConnection connection, NpgsqlTransaction transaction, string setId, EmbeddingSetDescriptor descriptor, long now)
    {
        // ON CONFLICT: another server may create the set at the same moment (this waits for its commit).
        using var command = new NpgsqlCommand("""
            INSERT INTO embedding_sets (set_id, model, model_version, layer, dimension, created_ms, updated_ms, metric)
            VALUES ($1, $2, $3, $4, $5, $6, $6, $7)
            ON CONFLICT (set_id) DO NOTHING
            RETURNING set_key;
            """, connection, transaction);
        command.Parameters.Add(new NpgsqlParameter { Value = setId });
        command.Parameters.Add(new NpgsqlParameter { Value = descriptor.Model });
        command.Parameters.Add(new NpgsqlParameter { Value = descriptor.ModelVersion });
        command.Parameters.Add(new NpgsqlParameter { Value = descriptor.Layer });
        command.Parameters.Add(new NpgsqlParameter { Value = descriptor.Dimension });
        command.Parameters.Add(new NpgsqlParameter { Value = now });
        var stored = descriptor.Clone();
        stored.Metric = SetMetrics.ForNewSet(descriptor.Metric);
        command.Parameters.Add(new NpgsqlParameter { Value = SetMetrics.ToName(stored.Metric) });
        return command.ExecuteScalar() is long key ? new StoredEmbeddingSet(key, setId, stored) : null;
    }

    private static Dictionary<string, (byte[] Hash, bool Deleted)> ReadStoredHashes(
        NpgsqlConnection connection, NpgsqlTransaction transaction, long setKey, IReadOnlyList<PreparedRecord> records)
    {
        // A join with the ids rather than "record_id = ANY($2)": the planner chose a bitmap scan of the whole set for that,
        // with the array as a filter; one probe of the (set_key, record_id) index per id costs the same at any set size.
        using var command = new NpgsqlCommand("""
            SELECT r.record_id, r.content_hash, r.deleted FROM unnest($2::text[]) AS k(id)
            JOIN records r ON r.set_key = $1 AND r.record_id = k.id;
            """, connection, transaction);
        command.Parameters.Add(new NpgsqlParameter { Value = setKey });
        command.Parameters.Add(new NpgsqlParameter { Value = records.Select(r => r.Id).ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text });
        var stored = new Dictionary<string, (byte[] Hash, bool Deleted)>(StringComparer.Ordinal);
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            stored[reader.GetString(0)] = (reader.GetFieldValue<byte[]>(1), reader.GetBoolean(2));
        }

        return stored;
    }

    private static long AllocateSequences(NpgsqlConnection connection, NpgsqlTransaction transaction, long setKey, int count, long now)
    {
        using var command = new NpgsqlCommand("""
            UPDATE embedding_sets SET last_sequence = last_sequence + $2, updated_ms = GREATEST(updated_ms, $3)
            WHERE set_key = $1 RETURNING last_sequence;
            """, connection, transaction);
        command.Parameters.Add(new NpgsqlParameter { Value = setKey });
        command.Parameters.Add(new NpgsqlParameter { Value = (long)count });
        command.Parameters.Add(new NpgsqlParameter { Value = now });
        return (long)command.ExecuteScalar()!;
    }

    private static async Task CopyToStagingAsync(NpgsqlConnection connection, IReadOnlyList<PreparedRecord> records)
    {
        using (var clear = new NpgsqlCommand("DELETE FROM chroma_staging;", connection))
        {
            await clear.ExecuteNonQueryAsync().ConfigureAwait(false);
        }

        var importer = await connection.BeginBinaryImportAsync(CopyStaging).ConfigureAwait(false);
        await using (importer.ConfigureAwait(false))
        {
            for (var i = 0; i < records.Count; i++)
            {
                var r = records[i];
                await importer.StartRowAsync().ConfigureAwait(false);
                await importer.WriteAsync((long)(i + 1), NpgsqlDbType.Bigint).ConfigureAwait(false);
                await importer.WriteAsync(r.Id, NpgsqlDbType.Text).ConfigureAwait(false);
                await importer.WriteAsync(r.Dataset, NpgsqlDbType.Text).ConfigureAwait(false);
                await importer.WriteAsync(r.Embedding, NpgsqlDbType.Bytea).ConfigureAwait(false);
                await WriteOrNullAsync(importer, r.InputUri, NpgsqlDbType.Text).ConfigureAwait(false);
                await WriteOrNullAsync(importer, r.PredictedClass, NpgsqlDbType.Text).ConfigureAwait(false);
                await WriteOrNullAsync(importer, r.ClassProbabilities, NpgsqlDbType.Bytea).ConfigureAwait(false);
                await WriteOrNullAsync(importer, r.ClassNamesJson, NpgsqlDbType.Text).ConfigureAwait(false);
                await WriteOrNullAsync(importer, r.Label, NpgsqlDbType.Text).ConfigureAwait(false);
                await WriteOrNullAsync(importer, r.MetadataJson, NpgsqlDbType.Jsonb).ConfigureAwait(false);
                await importer.WriteAsync(r.TimestampUnixMs, NpgsqlDbType.Bigint).ConfigureAwait(false);
                await importer.WriteAsync(r.ContentHash, NpgsqlDbType.Bytea).ConfigureAwait(false);
            }

            await importer.CompleteAsync().ConfigureAwait(false);
        }
    }

    private static Task WriteOrNullAsync<T>(NpgsqlBinaryImporter importer, T? value, NpgsqlDbType type)
        where T : class =>
        value is null ? importer.WriteNullAsync() : importer.WriteAsync(value, type);

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
                await CommitGroupAsync(group).ConfigureAwait(false);
            }
        }
    }

    private async Task CommitGroupAsync(List<PendingIngest> group)
    {
        try
        {
            var connection = await _database.OpenConnectionAsync().ConfigureAwait(false);
            await using (connection.ConfigureAwait(false))
            {
                using (var staging = new NpgsqlCommand(StagingTable, connection))
                {
                    await staging.ExecuteNonQueryAsync().ConfigureAwait(false);
                }

                var transaction = await connection.BeginTransactionAsync().ConfigureAwait(false);
                await using (transaction.ConfigureAwait(false))
                {
                    var now = _database.TimeProvider.GetUtcNow().ToUnixTimeMilliseconds();

                    // Sets locked in one order (by id) on every server, so two groups cannot deadlock; a
                    // stable sort keeps the arrival order of the batches of one set.
                    foreach (var pending in group.OrderBy(p => p.SetId, StringComparer.Ordinal))
                    {
                        await transaction.SaveAsync(BatchSavepoint).ConfigureAwait(false);
                        pending.Outcome = await IngestBatchAsync(connection, transaction, pending, now).ConfigureAwait(false);
                        if (pending.Outcome.Error is not null)
                        {
                            await transaction.RollbackAsync(BatchSavepoint).ConfigureAwait(false);
                            pending.Set = null;
                            pending.Inserted.Clear();
                        }
                        else
                        {
                            await transaction.ReleaseAsync(BatchSavepoint).ConfigureAwait(false);
                        }
                    }

                    if (BeforeCommitAsync is { } beforeCommit)
                    {
                        await beforeCommit().ConfigureAwait(false);
                    }

                    await transaction.CommitAsync().ConfigureAwait(false);
                }
            }
        }
#pragma warning disable CA1031 // Every waiting batch must hear about the failure; none may hang.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            _database.ForgetIdleConnections();
            Fail(group, new StoreUnavailableException("The PostgreSQL database could not commit the batch.", ex));
            return;
        }

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
}
