using System.Collections.Concurrent;
using Chroma.Protocol.V1;
using Chroma.Server.Storage.Internal;
using Microsoft.Data.Sqlite;

namespace Chroma.Server.Storage;

/// <summary>
/// <see cref="IRecordStore"/> on one SQLite file (<c>chroma.db</c>) in WAL mode with
/// <c>synchronous=FULL</c>, so a completed write survives power loss. One long-lived connection
/// writes, guarded by an async lock; reads use pooled connections and run concurrently with it.
/// </summary>
internal sealed partial class SqliteRecordStore : IRecordStore
{
    /// <summary>The database file name inside the data directory.</summary>
    public const string FileName = "chroma.db";

    private const int BusyTimeoutMs = 10_000;

    // A larger page cache keeps the id and dataset indexes in memory during bulk ingest.
    private const int WriterCacheKiB = 64 * 1024;

    private readonly string _connectionString;
    private readonly SqliteConnection _writer;
    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private readonly TimeProvider _timeProvider;
    private readonly CleanShutdownMarker _marker;
    private readonly StorageSpace _space;

    // Sets are never removed and their descriptor never changes, so a cache cannot go stale.
    private readonly ConcurrentDictionary<string, StoredEmbeddingSet> _sets = new(StringComparer.Ordinal);
    private bool _disposed;

    private SqliteRecordStore(
        string connectionString, SqliteConnection writer, TimeProvider timeProvider, CleanShutdownMarker marker, StorageSpace space)
    {
        _connectionString = connectionString;
        _writer = writer;
        _timeProvider = timeProvider;
        _marker = marker;
        _space = space;
    }

    /// <summary>
    /// Opens (creating if needed) the database in <paramref name="dataDirectory"/>. When the last store to use it did not
    /// close it cleanly, <paramref name="integrityCheck"/> runs first (see <see cref="DatabaseIntegrityCheck"/>).
    /// </summary>
    /// <exception cref="DatabaseDamagedException">The database failed the integrity check; nothing was changed.</exception>
    public static SqliteRecordStore Open(
        string dataDirectory, TimeProvider timeProvider, IntegrityCheckMode integrityCheck = IntegrityCheckMode.Quick, StorageSpace? space = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(dataDirectory);
        ArgumentNullException.ThrowIfNull(timeProvider);
        var directory = Path.GetFullPath(dataDirectory);
        Directory.CreateDirectory(directory);
        var marker = new CleanShutdownMarker(directory);
        var databasePath = Path.Combine(directory, FileName);
        if (!marker.Exists && File.Exists(databasePath)
            && DatabaseIntegrityCheck.Run(databasePath, integrityCheck) is { Count: > 0 } problems)
        {
            throw new DatabaseDamagedException(DatabaseIntegrityCheck.Describe(databasePath, problems));
        }

        marker.Remove();
        var connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = Path.Combine(directory, FileName),
            Mode = SqliteOpenMode.ReadWriteCreate,
            Pooling = true,
            DefaultTimeout = BusyTimeoutMs / 1000,
        }.ToString();

        var writer = new SqliteConnection(connectionString);
        try
        {
            writer.Open();
            Pragma(writer, "journal_mode = WAL");
            Pragma(writer, "synchronous = FULL");
            Pragma(writer, $"busy_timeout = {BusyTimeoutMs}");
            Pragma(writer, $"cache_size = -{WriterCacheKiB}");
            SqliteSchema.Migrate(writer);
            var store = new SqliteRecordStore(connectionString, writer, timeProvider, marker, space ?? new StorageSpace(timeProvider));
            store._space.UseProbe(store.ProbeWritableAsync);
            store.StartIngestWriter();
            return store;
        }
        catch
        {
            writer.Dispose();
            SqliteConnection.ClearPool(writer);
            throw;
        }
    }

    /// <inheritdoc />
    public StoredEmbeddingSet? FindSet(string setId)
    {
        if (_sets.TryGetValue(setId, out var cached))
        {
            return cached;
        }

        using var connection = OpenReader();
        var set = ReadSet(connection, null, setId);
        return set is null ? null : _sets.GetOrAdd(setId, set);
    }

    /// <inheritdoc />
    public bool IsReadable()
    {
        using var connection = OpenReader();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT COUNT(*) FROM schema_version;";
        return command.ExecuteScalar() is long;
    }

    /// <summary>
    /// Commits the batches already queued, then closes the database; pooled readers of this file
    /// are closed too, so the directory can be reopened at once.
    /// </summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _ingestQueue.Writer.TryComplete();
        _ingestWriter.GetAwaiter().GetResult();
        _writeLock.Wait();
        try
        {
            _disposed = true;
            DisposeIngestCommands();
            _writer.Dispose();

            // Without this, pooled handles keep chroma.db open and a new server on the same
            // directory (a restart) would share stale connections.
            SqliteConnection.ClearPool(_writer);

            // Only now is the database closed: a crash before this line leaves no marker, so the next start checks.
            try
            {
                _marker.Write(_timeProvider.GetUtcNow());
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                // No marker: the next start runs the integrity check, which is the safe side.
            }
        }
        finally
        {
            _writeLock.Release();
        }

        _writeLock.Dispose();
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

    private static void Pragma(SqliteConnection connection, string pragma)
    {
        using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA " + pragma + ";";
        command.ExecuteNonQuery();
    }

    private SqliteConnection OpenReader()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var connection = new SqliteConnection(_connectionString);
        connection.Open();
        return connection;
    }

    private async Task<IDisposable> EnterWriteAsync(CancellationToken cancellationToken)
    {
        await _writeLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        if (_disposed)
        {
            _writeLock.Release();
            throw new ObjectDisposedException(nameof(SqliteRecordStore));
        }

        return new WriteLockRelease(_writeLock);
    }

    private sealed class WriteLockRelease(SemaphoreSlim writeLock) : IDisposable
    {
        public void Dispose() => writeLock.Release();
    }
}
