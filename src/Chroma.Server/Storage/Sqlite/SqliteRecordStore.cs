using System.Collections.Concurrent;
using Chroma.Protocol.V1;
using Microsoft.Data.Sqlite;

namespace Chroma.Server.Storage.Sqlite;

/// <summary>
/// <see cref="IRecordStore"/> on a <see cref="SqliteDatabase"/>: ingest through one group-commit
/// writer loop, deletes and tags under the database's write lock, reads on pooled connections.
/// After each commit it calls the <see cref="RecordChangeObservers"/> it was given.
/// </summary>
internal sealed partial class SqliteRecordStore : IRecordStore
{
    private readonly SqliteDatabase _database;
    private readonly RecordChangeObservers _observers;

    // Sets are never removed and their descriptor never changes, so a cache cannot go stale.
    private readonly ConcurrentDictionary<string, StoredEmbeddingSet> _sets = new(StringComparer.Ordinal);
    private int _disposed;

    /// <summary>Creates the store over <paramref name="database"/> and starts its ingest writer.</summary>
    public SqliteRecordStore(SqliteDatabase database, RecordChangeObservers observers)
    {
        ArgumentNullException.ThrowIfNull(database);
        ArgumentNullException.ThrowIfNull(observers);
        _database = database;
        _observers = observers;
        StartIngestWriter();
    }

    private SqliteConnection Writer => _database.Writer;

    /// <inheritdoc />
    public StoredEmbeddingSet? FindSet(string setId)
    {
        if (_sets.TryGetValue(setId, out var cached))
        {
            return cached;
        }

        using var connection = _database.OpenReader();
        var set = ReadSet(connection, null, setId);
        return set is null ? null : _sets.GetOrAdd(setId, set);
    }

    /// <inheritdoc />
    public bool IsReadable()
    {
        using var connection = _database.OpenReader();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT COUNT(*) FROM schema_version;";
        return command.ExecuteScalar() is long;
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
        DisposeIngestCommands();
    }

    private static StoredEmbeddingSet? ReadSet(SqliteConnection connection, SqliteTransaction? transaction, string setId)
    {
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText =
            "SELECT set_key, model, model_version, layer, dimension FROM embedding_sets WHERE set_id = $id;";
        command.Parameters.AddWithValue("$id", setId);
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
        };
        return new StoredEmbeddingSet(reader.GetInt64(0), setId, descriptor);
    }
}
