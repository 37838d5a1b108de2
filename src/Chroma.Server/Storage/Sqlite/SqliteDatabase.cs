using Chroma.Server.Storage.Sqlite.Internal;
using Microsoft.Data.Sqlite;

namespace Chroma.Server.Storage.Sqlite;

/// <summary>
/// One SQLite file (<c>chroma.db</c>) in WAL mode with <c>synchronous=FULL</c>, so a completed write
/// survives power loss: the schema, one long-lived writer connection guarded by an async lock, and
/// pooled reader connections that run concurrently with it. Shared by the record and score stores.
/// </summary>
internal sealed class SqliteDatabase : IDisposable
{
    /// <summary>The database file name inside the data directory.</summary>
    public const string FileName = "chroma.db";

    private const int BusyTimeoutMs = 10_000;

    // A larger page cache keeps the id and dataset indexes in memory during bulk ingest.
    private const int WriterCacheKiB = 64 * 1024;

    private readonly string _connectionString;
    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private bool _disposed;

    private SqliteDatabase(string connectionString, SqliteConnection writer, TimeProvider timeProvider)
    {
        _connectionString = connectionString;
        Writer = writer;
        TimeProvider = timeProvider;
    }

    /// <summary>Gets the writer connection; use it only while holding the write lock.</summary>
    public SqliteConnection Writer { get; }

    /// <summary>Gets the clock that stamps rows.</summary>
    public TimeProvider TimeProvider { get; }

    /// <summary>Opens (creating and migrating if needed) the database in <paramref name="dataDirectory"/>.</summary>
    public static SqliteDatabase Open(string dataDirectory, TimeProvider timeProvider)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(dataDirectory);
        ArgumentNullException.ThrowIfNull(timeProvider);
        var directory = Path.GetFullPath(dataDirectory);
        Directory.CreateDirectory(directory);
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
            return new SqliteDatabase(connectionString, writer, timeProvider);
        }
        catch
        {
            writer.Dispose();
            SqliteConnection.ClearPool(writer);
            throw;
        }
    }

    /// <summary>A new pooled reader connection (the caller disposes it).</summary>
    public SqliteConnection OpenReader()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var connection = new SqliteConnection(_connectionString);
        connection.Open();
        return connection;
    }

    /// <summary>Takes the write lock; disposing the result releases it.</summary>
    public async Task<IDisposable> EnterWriteAsync(CancellationToken cancellationToken = default)
    {
        await _writeLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        if (_disposed)
        {
            _writeLock.Release();
            throw new ObjectDisposedException(nameof(SqliteDatabase));
        }

        return new WriteLockRelease(_writeLock);
    }

    /// <summary>
    /// Closes the writer; pooled readers of this file are closed too, so the directory can be
    /// reopened at once. Waits for a write in progress.
    /// </summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _writeLock.Wait();
        try
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            Writer.Dispose();

            // Without this, pooled handles keep chroma.db open and a new server on the same
            // directory (a restart) would share stale connections.
            SqliteConnection.ClearPool(Writer);
        }
        finally
        {
            _writeLock.Release();
        }
    }

    private static void Pragma(SqliteConnection connection, string pragma)
    {
        using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA " + pragma + ";";
        command.ExecuteNonQuery();
    }

    private sealed class WriteLockRelease(SemaphoreSlim writeLock) : IDisposable
    {
        private int _released;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _released, 1) == 0)
            {
                writeLock.Release();
            }
        }
    }
}
