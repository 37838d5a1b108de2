using Npgsql;

namespace Chroma.Testing.Postgres;

/// <summary>
/// A real PostgreSQL for tests and benchmarks, started once per process: the server named by
/// <c>CHROMA_TEST_POSTGRES</c> (a connection string to a superuser database, e.g. started by CI), or else
/// a private <see cref="PostgresCluster"/>, stopped and deleted by <see cref="Stop"/> or at process exit.
/// Each caller gets its own empty database from <see cref="CreateDatabaseAsync"/>.
/// </summary>
public static partial class TestPostgres
{
    /// <summary>The environment variable naming an already running server.</summary>
    public const string ServerVariable = "CHROMA_TEST_POSTGRES";

    private static readonly SemaphoreSlim StartLock = new(1, 1);
    private static string? _adminConnectionString;
    private static string? _unavailable;
    private static PostgresCluster? _cluster;
    private static bool _exitHooked;

    /// <summary>Whether <see cref="Restart"/> can restart the server: true for a private one this process started.</summary>
    public static bool CanRestart => _cluster is not null;

    /// <summary>
    /// The connection string of a new empty database on the test server, or null with the reason in
    /// <paramref name="reason"/> when no PostgreSQL could be started.
    /// </summary>
    public static async Task<(string? ConnectionString, string? Reason)> CreateDatabaseAsync(CancellationToken cancellationToken = default)
    {
        var admin = await StartAsync(cancellationToken).ConfigureAwait(false);
        if (admin is null)
        {
            return (null, _unavailable);
        }

        var name = "chroma_test_" + Guid.NewGuid().ToString("N")[..16];
        await using (var connection = new NpgsqlConnection(admin))
        {
            await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
            await using var create = new NpgsqlCommand($"CREATE DATABASE {name};", connection);
            await create.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        return (new NpgsqlConnectionStringBuilder(admin) { Database = name, Pooling = true }.ConnectionString, null);
    }

    /// <summary>Drops a database made by <see cref="CreateDatabaseAsync"/> (closing its connections first).</summary>
    public static void DropDatabase(string connectionString)
    {
        if (_adminConnectionString is null)
        {
            return;
        }

        NpgsqlConnection.ClearAllPools();
        var name = new NpgsqlConnectionStringBuilder(connectionString).Database;
        using var connection = new NpgsqlConnection(_adminConnectionString);
        connection.Open();
        using var drop = new NpgsqlCommand($"DROP DATABASE IF EXISTS {name} WITH (FORCE);", connection);
        drop.ExecuteNonQuery();
    }

    /// <summary>Stops and deletes the private server, if this process started one.</summary>
    public static void Stop()
    {
        StartLock.Wait();
        try
        {
            if (_cluster is null)
            {
                return;
            }

            NpgsqlConnection.ClearAllPools();
            _cluster.Dispose();
            _cluster = null;
            _adminConnectionString = null;
            _unavailable = null;
        }
        finally
        {
            StartLock.Release();
        }
    }

    /// <summary>
    /// Stops the private server the way a crash would (<c>pg_ctl stop -m immediate</c>: every connection drops, nothing is
    /// flushed beyond the WAL), waits <paramref name="down"/>, and starts it again on the same port and data folder.
    /// </summary>
    public static void Restart(TimeSpan down)
    {
        var cluster = _cluster ?? throw new InvalidOperationException("only a private server started by this process can be restarted");
        cluster.StopImmediate();
        Thread.Sleep(down);
        cluster.Start();
    }

    private static async Task<string?> StartAsync(CancellationToken cancellationToken)
    {
        await StartLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_adminConnectionString is not null || _unavailable is not null)
            {
                return _adminConnectionString;
            }

            if (Environment.GetEnvironmentVariable(ServerVariable) is { Length: > 0 } given)
            {
                _adminConnectionString = given;
                return given;
            }

            try
            {
                _cluster = PostgresCluster.TryCreate(out _unavailable, "-c shared_buffers=256MB");
            }
            catch (InvalidOperationException ex)
            {
                _unavailable = "PostgreSQL did not start: " + ex.Message;
            }

            if (_cluster is null)
            {
                _unavailable += "; run .ci/postgres.sh or set " + ServerVariable;
                return null;
            }

            HookProcessExit();
            _adminConnectionString = new NpgsqlConnectionStringBuilder(_cluster.ConnectionString) { Pooling = false, Timeout = 30 }.ConnectionString;
            return _adminConnectionString;
        }
        finally
        {
            StartLock.Release();
        }
    }

    private static void HookProcessExit()
    {
        if (!_exitHooked)
        {
            _exitHooked = true;
            AppDomain.CurrentDomain.ProcessExit += (_, _) => Stop();
        }
    }
}
