using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Npgsql;

namespace Chroma.Testing.Postgres;

/// <summary>
/// A real PostgreSQL for tests and benchmarks, started once per process: the server named by
/// <c>CHROMA_TEST_POSTGRES</c> (a connection string to a superuser database, e.g. started by CI), or else
/// a private one: <c>initdb</c> into a temp folder and <c>pg_ctl start</c> on a free loopback port (as the
/// <c>postgres</c> user when running as root), stopped and deleted by <see cref="Stop"/> or at process exit.
/// Each caller gets its own empty database from <see cref="CreateDatabaseAsync"/>.
/// </summary>
public static partial class TestPostgres
{
    /// <summary>The environment variable naming an already running server.</summary>
    public const string ServerVariable = "CHROMA_TEST_POSTGRES";

    private static readonly SemaphoreSlim StartLock = new(1, 1);
    private static string? _adminConnectionString;
    private static string? _unavailable;
    private static string? _root;
    private static string? _dataDirectory;
    private static string? _pgCtl;
    private static bool _exitHooked;
    private static string? _startSettings;

    /// <summary>Whether <see cref="Restart"/> can restart the server: true for a private one this process started.</summary>
    public static bool CanRestart => _pgCtl is not null && _dataDirectory is not null;

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
            if (_dataDirectory is null || _pgCtl is null)
            {
                return;
            }

            NpgsqlConnection.ClearAllPools();
            Run(_pgCtl, ["-D", _dataDirectory, "-m", "immediate", "-w", "stop"], asPostgres: true, TimeSpan.FromSeconds(60), throwOnFailure: false);
            try
            {
                Directory.Delete(_root ?? _dataDirectory, recursive: true);
            }
            catch (IOException)
            {
                // A leftover temp folder is harmless.
            }

            _dataDirectory = null;
            _root = null;
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
        if (!CanRestart || _startSettings is null)
        {
            throw new InvalidOperationException("only a private server started by this process can be restarted");
        }

        Run(_pgCtl!, ["-D", _dataDirectory!, "-m", "immediate", "-w", "stop"], asPostgres: true, TimeSpan.FromSeconds(60));
        Thread.Sleep(down);
        Run(_pgCtl!, ["-D", _dataDirectory!, "-o", _startSettings, "-l", Path.Combine(_root!, "server.log"), "-w", "-t", "120", "start"], asPostgres: true, TimeSpan.FromMinutes(3));
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

            var bin = FindBinaries();
            if (bin is null)
            {
                _unavailable = "no PostgreSQL server binaries (/usr/lib/postgresql/*/bin/initdb); run .ci/postgres.sh or set " + ServerVariable;
                return null;
            }

            try
            {
                _adminConnectionString = StartPrivateServer(bin);
                return _adminConnectionString;
            }
            catch (InvalidOperationException ex)
            {
                _unavailable = "PostgreSQL did not start: " + ex.Message;
                return null;
            }
        }
        finally
        {
            StartLock.Release();
        }
    }

    private static string? FindBinaries() =>
        Directory.Exists("/usr/lib/postgresql")
            ? Directory.GetDirectories("/usr/lib/postgresql")
                .Select(d => Path.Combine(d, "bin"))
                .Where(b => File.Exists(Path.Combine(b, "initdb")) && File.Exists(Path.Combine(b, "pg_ctl")))
                .OrderByDescending(b => int.TryParse(Path.GetFileName(Path.GetDirectoryName(b)), CultureInfo.InvariantCulture, out var v) ? v : 0)
                .FirstOrDefault()
            : null;

    private static string StartPrivateServer(string bin)
    {
        var directory = Path.Combine(Path.GetTempPath(), "chroma-pg-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(directory);
        var data = Path.Combine(directory, "data");
        if (IsRoot())
        {
            // initdb refuses to run as root; the cluster belongs to the postgres user.
            Run("chown", ["postgres:postgres", directory], asPostgres: false, TimeSpan.FromSeconds(30));
        }

        Run(Path.Combine(bin, "initdb"), ["-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-locale", "--no-sync"], asPostgres: true, TimeSpan.FromMinutes(2));
        var port = FreePort();
        _pgCtl = Path.Combine(bin, "pg_ctl");
        _root = directory;
        _dataDirectory = data;
        HookProcessExit();
        var settings = string.Create(CultureInfo.InvariantCulture,
            $"-c listen_addresses=127.0.0.1 -c port={port} -c unix_socket_directories={directory} -c max_connections=200 -c shared_buffers=256MB");
        _startSettings = settings;
        Run(_pgCtl, ["-D", data, "-o", settings, "-l", Path.Combine(directory, "server.log"), "-w", "-t", "120", "start"], asPostgres: true, TimeSpan.FromMinutes(3));
        return string.Create(CultureInfo.InvariantCulture, $"Host=127.0.0.1;Port={port};Username=postgres;Database=postgres;Pooling=false;Timeout=30");
    }

    private static void HookProcessExit()
    {
        if (!_exitHooked)
        {
            _exitHooked = true;
            AppDomain.CurrentDomain.ProcessExit += (_, _) => Stop();
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static bool IsRoot() => Environment.UserName == "root";

    private static void Run(string file, IReadOnlyList<string> arguments, bool asPostgres, TimeSpan timeout, bool throwOnFailure = true)
    {
        var start = new ProcessStartInfo
        {
            FileName = asPostgres && IsRoot() ? "runuser" : file,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = Path.GetTempPath(),
        };
        if (asPostgres && IsRoot())
        {
            foreach (var a in new[] { "-u", "postgres", "--", file })
            {
                start.ArgumentList.Add(a);
            }
        }

        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException($"could not run {file}");
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(timeout))
        {
            process.Kill(entireProcessTree: true);
            throw new InvalidOperationException($"{Path.GetFileName(file)} did not finish within {timeout}");
        }

        if (process.ExitCode != 0 && throwOnFailure)
        {
            throw new InvalidOperationException($"{Path.GetFileName(file)} exited with {process.ExitCode}: {error.Result.Trim()} {output.Result.Trim()}");
        }
    }
}
