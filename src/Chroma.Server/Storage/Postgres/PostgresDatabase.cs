using Chroma.Server.Storage.Postgres.Internal;
using Npgsql;

namespace Chroma.Server.Storage.Postgres;

/// <summary>
/// One PostgreSQL database shared by the record and score stores: a pooled <see cref="NpgsqlDataSource"/>,
/// the schema (migrated once under an advisory lock when opened), and an in-process write lock so this
/// server tells its observers about its own commits in commit order. Several servers may share the
/// database: rows they write to the same set are ordered by that set's row lock (see
/// <see cref="PostgresRecordStore"/>).
/// </summary>
internal sealed class PostgresDatabase : IDisposable
{
    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private bool _disposed;

    private PostgresDatabase(NpgsqlDataSource dataSource, TimeProvider timeProvider, SchemaMigration migration)
    {
        DataSource = dataSource;
        TimeProvider = timeProvider;
        Migration = migration;
    }

    /// <summary>Gets the pooled connections.</summary>
    public NpgsqlDataSource DataSource { get; }

    /// <summary>Gets the clock that stamps rows.</summary>
    public TimeProvider TimeProvider { get; }

    /// <summary>
    /// Gets what this server's start did to the schema: nothing (already current, or another replica migrated it while
    /// this one waited for the lock) or the versions it applied, with how long that took.
    /// </summary>
    public SchemaMigration Migration { get; }

    /// <summary>
    /// Connects (waiting up to <paramref name="startupTimeout"/> for a database that does not accept connections yet;
    /// failing with a <see cref="StorageStartException"/> that names the setting and never the password) and brings the
    /// schema to the current version.
    /// </summary>
    /// <param name="connectionString">The configured connection string.</param>
    /// <param name="timeProvider">Stamps rows; the start's wait is measured on it.</param>
    /// <param name="startupTimeout">How long to wait for PostgreSQL (<see cref="StorageOptions.StartupTimeout"/>); zero tries once.</param>
    /// <param name="waiting">Hears of each failed attempt while waiting (attempt, reason, pause before the next).</param>
    public static PostgresDatabase Open(
        string connectionString, TimeProvider timeProvider, TimeSpan startupTimeout = default, Action<int, string, TimeSpan>? waiting = null)
    {
        ArgumentNullException.ThrowIfNull(timeProvider);
        var dataSource = PostgresConnection.CreateDataSource(connectionString);
        try
        {
            // The migration is retried like the first connection: PostgreSQL restarted while a replica started cut it.
            var migration = new SchemaMigration(PostgresSchema.CurrentVersion, PostgresSchema.CurrentVersion, TimeSpan.Zero);
            PostgresConnection.Check(dataSource, connectionString, startupTimeout, timeProvider, waiting, () =>
            {
                var started = timeProvider.GetTimestamp();
                migration = PostgresSchema.Describe(PostgresSchema.Migrate(dataSource), timeProvider.GetElapsedTime(started));
            });
            return new PostgresDatabase(dataSource, timeProvider, migration);
        }
        catch
        {
            dataSource.Dispose();
            throw;
        }
    }

    /// <summary>An open pooled connection (the caller disposes it).</summary>
    public NpgsqlConnection OpenConnection()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        return DataSource.OpenConnection();
    }

    /// <summary>An open pooled connection (the caller disposes it).</summary>
    public ValueTask<NpgsqlConnection> OpenConnectionAsync(CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        return DataSource.OpenConnectionAsync(cancellationToken);
    }

    /// <summary>
    /// Drops the idle pooled connections after a failure that may have broken them (PostgreSQL restarted): the next
    /// call opens fresh ones instead of failing once per stale connection.
    /// </summary>
    public void ForgetIdleConnections()
    {
        if (!_disposed)
        {
            DataSource.Clear();
        }
    }

    /// <summary>Takes this server's write lock; disposing the result releases it.</summary>
    public async Task<IDisposable> EnterWriteAsync(CancellationToken cancellationToken = default)
    {
        await _writeLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        if (_disposed)
        {
            _writeLock.Release();
            throw new ObjectDisposedException(nameof(PostgresDatabase));
        }

        return new WriteLockRelease(_writeLock);
    }

    /// <summary>Waits for a write in progress, then closes every pooled connection.</summary>
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
            DataSource.Dispose();
        }
        finally
        {
            _writeLock.Release();
        }
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
