using System.Collections.Concurrent;
using Chroma.Protocol.V1;
using Chroma.Server.Storage.Internal;
using Chroma.Server.Storage.Postgres.Internal;
using Npgsql;

namespace Chroma.Server.Storage.Postgres;

/// <summary>
/// <see cref="IRecordStore"/> on a <see cref="PostgresDatabase"/>, with the SQLite store's contract:
/// group commit with a savepoint per batch, an ack only after COMMIT, idempotent on record id,
/// tombstones for deletes. Sequences are per set and allocated inside the writing transaction
/// (<c>UPDATE embedding_sets ... RETURNING last_sequence</c>), so rows of a set become visible in
/// sequence order even with several servers writing: a reader tailing by sequence never skips a row
/// that commits late. After each of its own commits it calls the <see cref="RecordChangeObservers"/>.
/// </summary>
internal sealed partial class PostgresRecordStore : IRecordStore
{
    private readonly PostgresDatabase _database;
    private readonly RecordChangeObservers _observers;

    // Sets are never removed and their descriptor never changes, so a cache cannot go stale.
    private readonly ConcurrentDictionary<string, StoredEmbeddingSet> _sets = new(StringComparer.Ordinal);
    private readonly LiveDatasetCounts _datasetCounts = new();
    private int _disposed;

    /// <summary>Creates the store over <paramref name="database"/> and starts its ingest writer.</summary>
    public PostgresRecordStore(PostgresDatabase database, RecordChangeObservers observers)
    {
        ArgumentNullException.ThrowIfNull(database);
        ArgumentNullException.ThrowIfNull(observers);
        _database = database;
        _observers = observers;
        StartIngestWriter();
    }

    /// <inheritdoc />
    public IngestRejection? CheckStorable(Record record, int index) => PostgresText.Check(record, index);

    /// <inheritdoc />
    public bool HoldsUnchanged(StoredEmbeddingSet set, PreparedRecord record)
    {
        ArgumentNullException.ThrowIfNull(set);
        ArgumentNullException.ThrowIfNull(record);
        using var connection = _database.OpenConnection();
        using var command = new NpgsqlCommand("SELECT content_hash FROM records WHERE set_key = $1 AND record_id = $2;", connection);
        command.Parameters.Add(new NpgsqlParameter { Value = set.Key });
        command.Parameters.Add(new NpgsqlParameter { Value = record.Id });
        return command.ExecuteScalar() is byte[] stored && stored.AsSpan().SequenceEqual(record.ContentHash);
    }

    /// <inheritdoc />
    public StoredEmbeddingSet? FindSet(string setId)
    {
        if (_sets.TryGetValue(setId, out var cached))
        {
            return cached;
        }

        using var connection = _database.OpenConnection();
        var set = ReadSet(connection, null, setId, forUpdate: false);
        return set is null ? null : _sets.GetOrAdd(setId, set);
    }

    /// <inheritdoc />
    public bool IsReadable()
    {
        try
        {
            using var connection = _database.OpenConnection();
            using var command = new NpgsqlCommand("SELECT COUNT(*) FROM chroma_schema_migrations;", connection);
            return command.ExecuteScalar() is long;
        }
        catch (NpgsqlException)
        {
            // Down or restarted: the next probe opens fresh connections instead of stale pooled ones.
            _database.ForgetIdleConnections();
            throw;
        }
    }

    /// <summary>Commits the batches already queued and stops the writer; the database stays open.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        _ingestQueue.Writer.TryComplete();
        _ingestWriter.GetAwaiter().GetResult();
    }

    private static StoredEmbeddingSet? ReadSet(NpgsqlConnection connection, NpgsqlTransaction? transaction, string setId, bool forUpdate)
    {
        using var command = new NpgsqlCommand(
            "SELECT set_key, model, model_version, layer, dimension, metric FROM embedding_sets WHERE set_id = $1" + (forUpdate ? " FOR UPDATE;" : ";"),
            connection,
            transaction);
        command.Parameters.Add(new NpgsqlParameter { Value = setId });
        using var reader = command.ExecuteReader();
        if (!reader.Read())
        {
            return null;
        }

        var descriptor = new EmbeddingSetDescriptor
        {
            Model = reader.GetString(1),
            ModelVersion = reader.GetString(2),
            Layer = reader.GetString(3),
            Dimension = reader.GetInt32(4),
            Metric = SetMetrics.Parse(reader.GetString(5)),
        };
        return new StoredEmbeddingSet(reader.GetInt64(0), setId, descriptor);
    }
}
