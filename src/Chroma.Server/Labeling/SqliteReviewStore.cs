using Chroma.Server.Labeling.Internal;
using Microsoft.Data.Sqlite;

namespace Chroma.Server.Labeling;

/// <summary>
/// <see cref="IReviewStore"/> in the server's SQLite file (<c>chroma.db</c>, WAL): its own writer
/// connection, serialized by an async lock; SQLite's busy timeout orders it with the record
/// store's writes. Reads use pooled connections.
/// </summary>
internal sealed partial class SqliteReviewStore : IReviewStore
{
    private const int BusyTimeoutSeconds = 10;

    private readonly string _connectionString;
    private readonly SqliteConnection _writer;
    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private bool _disposed;

    private SqliteReviewStore(string connectionString, SqliteConnection writer)
    {
        _connectionString = connectionString;
        _writer = writer;
    }

    /// <summary>Opens the review tables of the database in <paramref name="dataDirectory"/>, creating them if needed.</summary>
    public static SqliteReviewStore Open(string dataDirectory, string fileName = "chroma.db")
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(dataDirectory);
        var directory = Security.OwnerOnlyFiles.CreateDirectory(dataDirectory);
        Security.OwnerOnlyFiles.CreateEmptyIfMissing(Path.Combine(directory, fileName));
        var connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = Path.Combine(directory, fileName),
            Mode = SqliteOpenMode.ReadWriteCreate,
            Pooling = true,
            DefaultTimeout = BusyTimeoutSeconds,
        }.ToString();
        var writer = new SqliteConnection(connectionString);
        try
        {
            writer.Open();
            Execute(writer, "PRAGMA journal_mode = WAL;");
            Execute(writer, "PRAGMA synchronous = FULL;");
            Execute(writer, $"PRAGMA busy_timeout = {BusyTimeoutSeconds * 1000};");
            ReviewSchema.Ensure(writer);
            return new SqliteReviewStore(connectionString, writer);
        }
        catch
        {
            writer.Dispose();
            throw;
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _writeLock.Wait();
        try
        {
            _disposed = true;
            _writer.Dispose();
            SqliteConnection.ClearPool(_writer);
        }
        finally
        {
            _writeLock.Release();
        }

        _writeLock.Dispose();
    }

    private static void Execute(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
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
            throw new ObjectDisposedException(nameof(SqliteReviewStore));
        }

        return new Release(_writeLock);
    }

    private sealed class Release(SemaphoreSlim gate) : IDisposable
    {
        public void Dispose() => gate.Release();
    }
}
