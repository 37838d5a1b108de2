using System.Collections.Concurrent;
using Chroma.Protocol.V1;
using Chroma.Server.Storage.Internal;
using Microsoft.Data.Sqlite;

namespace Chroma.Server.Storage.Sqlite;

/// <summary>
/// <see cref="IRecordStore"/> on a <see cref="SqliteDatabase"/>: ingest through one group-commit
/// writer loop, deletes and tags under the database's write lock, reads on pooled connections.
/// After each commit it calls the <see cref="RecordChangeObservers"/> it was given.
/// </summary>
internal sealed partial class SqliteRecordStore : IRecordStore
{
    /// <summary>The database file name inside the data directory.</summary>
    public const string FileName = SqliteDatabase.FileName;

    private readonly SqliteDatabase _database;
    private readonly RecordChangeObservers _observers;
    private readonly bool _ownsDatabase;

    // Sets are never removed and their descriptor never changes, so a cache cannot go stale.
    private readonly ConcurrentDictionary<string, StoredEmbeddingSet> _sets = new(StringComparer.Ordinal);
    private readonly LiveDatasetCounts _datasetCounts = new();
    private int _disposed;

    /// <summary>Creates the store over <paramref name="database"/> and starts its ingest writer.</summary>
    public SqliteRecordStore(SqliteDatabase database, RecordChangeObservers observers)
        : this(database, observers, ownsDatabase: false)
    {
    }

    private SqliteRecordStore(SqliteDatabase database, RecordChangeObservers observers, bool ownsDatabase)
    {
        ArgumentNullException.ThrowIfNull(database);
        ArgumentNullException.ThrowIfNull(observers);
        _database = database;
        _observers = observers;
        _ownsDatabase = ownsDatabase;
        StartIngestWriter();
    }

    /// <summary>
    /// Gets or sets a fault raised just before each commit (tests inject <c>SQLITE_FULL</c> with it). The default value is
    /// <see langword="null"/>.
    /// </summary>
    internal Func<Exception?>? CommitFault
    {
        get => _database.CommitFault;
        set => _database.CommitFault = value;
    }

    /// <summary>Gets the space state the database reports into.</summary>
    internal StorageSpace Space => _database.Space;

    /// <summary>
    /// Opens a record store that owns its own database and tells no observers (tools, benchmarks and tests that need only
    /// the records); the server opens both stores through <see cref="SqliteStorage"/>.
    /// </summary>
    /// <exception cref="DatabaseDamagedException">The database failed the integrity check.</exception>
    public static SqliteRecordStore Open(
        string dataDirectory, TimeProvider timeProvider, IntegrityCheckMode integrityCheck = IntegrityCheckMode.Quick) =>
        new(SqliteDatabase.Open(dataDirectory, timeProvider, integrityCheck), RecordChangeObservers.None, ownsDatabase: true);

    private SqliteConnection Writer => _database.Writer;

    /// <inheritdoc />
    public IngestRejection? CheckStorable(Record record, int index) => null;

    /// <inheritdoc />
    public bool HoldsUnchanged(StoredEmbeddingSet set, PreparedRecord record)
    {
        ArgumentNullException.ThrowIfNull(set);
        ArgumentNullException.ThrowIfNull(record);
        using var connection = _database.OpenReader();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT content_hash FROM records WHERE set_key = $set AND record_id = $id;";
        command.Parameters.AddWithValue("$set", set.Key);
        command.Parameters.AddWithValue("$id", record.Id);
        return command.ExecuteScalar() is byte[] stored && stored.AsSpan().SequenceEqual(record.ContentHash);
    }

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
        if (_ownsDatabase)
        {
            _database.Dispose();
        }
    }

    private static StoredEmbeddingSet? ReadSet(SqliteConnection connection, SqliteTransaction? transaction, string setId)
    {
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText =
            "SELECT set_key, model, model_version, layer, dimension, metric FROM embedding_sets WHERE set_id = $id;";
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
            Metric = SetMetrics.Parse(reader.GetString(5)),
        };
        return new StoredEmbeddingSet(reader.GetInt64(0), setId, descriptor);
    }
}
