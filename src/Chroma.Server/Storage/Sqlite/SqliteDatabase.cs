using Chroma.Server.Storage.Internal;
using Chroma.Server.Storage.Sqlite.Internal;
using Microsoft.Data.Sqlite;

namespace Chroma.Server.Storage.Sqlite;

/// <summary>
/// One SQLite file (<c>chroma.db</c>) in WAL mode with <c>synchronous=FULL</c>, so a completed write
/// survives power loss: the schema, one long-lived writer connection guarded by an async lock, and
/// pooled reader connections that run concurrently with it. Shared by the record and score stores.
/// </summary>
internal sealed partial class SqliteDatabase : IDisposable
{
    /// <summary>The database file name inside the data directory.</summary>
    public const string FileName = "chroma.db";

    private const int BusyTimeoutMs = 10_000;

    // A larger page cache keeps the id and dataset indexes in memory during bulk ingest.
    private const int WriterCacheKiB = 64 * 1024;

    private readonly string _connectionString;
    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private readonly CleanShutdownMarker _marker;
    private bool _disposed;

    private SqliteDatabase(
        string connectionString,
        string dataDirectory,
        SqliteConnection writer,
        TimeProvider timeProvider,
        CleanShutdownMarker marker,
        StorageSpace space,
        SchemaMigration migration)
    {
        _connectionString = connectionString;
        Migration = migration;
        DataDirectory = dataDirectory;
        Writer = writer;
        TimeProvider = timeProvider;
        _marker = marker;
        Space = space;
    }

    /// <summary>Gets the full path of the data directory holding the file.</summary>
    public string DataDirectory { get; }

    /// <summary>Gets the writer connection; use it only while holding the write lock.</summary>
    public SqliteConnection Writer { get; }

    /// <summary>Gets the clock that stamps rows.</summary>
    public TimeProvider TimeProvider { get; }

    /// <summary>Gets what opening did to the schema (the version found, the version now, how long it took).</summary>
    public SchemaMigration Migration { get; }

    /// <summary>
    /// Opens (creating and migrating if needed) the database in <paramref name="dataDirectory"/>. When the last server to
    /// use it did not close it cleanly, <paramref name="integrityCheck"/> runs first (see <see cref="DatabaseIntegrityCheck"/>).
    /// </summary>
    /// <exception cref="DatabaseDamagedException">The database failed the integrity check; nothing was changed.</exception>
    public static SqliteDatabase Open(
        string dataDirectory,
        TimeProvider timeProvider,
        IntegrityCheckMode integrityCheck = IntegrityCheckMode.Quick,
        StorageSpace? space = null,
        ILogger? logger = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(dataDirectory);
        ArgumentNullException.ThrowIfNull(timeProvider);
        var directory = Security.OwnerOnlyFiles.CreateDirectory(dataDirectory);
        var marker = new CleanShutdownMarker(directory);
        var databasePath = Path.Combine(directory, FileName);
        if (!marker.Exists && File.Exists(databasePath))
        {
            CheckAfterUncleanShutdown(databasePath, integrityCheck, timeProvider, logger ?? Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance);
        }

        marker.Remove();

        // Created owner-only before SQLite creates it (after the check above, which asks whether it exists): SQLite gives
        // its -wal and -shm files the main file's mode.
        Security.OwnerOnlyFiles.CreateEmptyIfMissing(databasePath);
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
            var started = timeProvider.GetTimestamp();
            var found = SqliteSchema.Migrate(writer);
            var migration = new SchemaMigration(found, SqliteSchema.CurrentVersion, found == SqliteSchema.CurrentVersion ? TimeSpan.Zero : timeProvider.GetElapsedTime(started));
            var database = new SqliteDatabase(connectionString, directory, writer, timeProvider, marker, space ?? new StorageSpace(timeProvider), migration);
            database.Space.UseProbe(database.ProbeWritableAsync);
            return database;
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

            // Only now is the database closed: a crash before this line leaves no marker, so the next start checks.
            try
            {
                _marker.Write(TimeProvider.GetUtcNow());
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
