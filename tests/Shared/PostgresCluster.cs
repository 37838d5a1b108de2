using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace Chroma.Testing.Postgres;

/// <summary>
/// A private PostgreSQL cluster, the one process runner of the test fixtures (<see cref="TestPostgres"/> keeps one for
/// the whole process; an outage test makes its own): <c>initdb</c> into a temp folder, <c>pg_ctl start</c> on a free
/// loopback port (as the <c>postgres</c> user when running as root, since initdb refuses root),
/// <see cref="StopImmediate"/> (<c>pg_ctl stop -m immediate</c>, a crash as far as clients can tell) and
/// <see cref="Start"/> again on the same port. Null from <see cref="TryCreate"/> when no PostgreSQL binaries are installed.
/// </summary>
public sealed class PostgresCluster : IDisposable
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromMinutes(3);
    private static readonly TimeSpan StopTimeout = TimeSpan.FromSeconds(60);

    private readonly string _root;
    private readonly string _data;
    private readonly string _pgCtl;
    private readonly string _settings;

    private PostgresCluster(string bin, string root, int port, string extraSettings)
    {
        _root = root;
        _data = Path.Combine(root, "data");
        _pgCtl = Path.Combine(bin, "pg_ctl");
        Port = port;
        _settings = string.Create(CultureInfo.InvariantCulture,
            $"-c listen_addresses=127.0.0.1 -c port={port} -c unix_socket_directories={root} -c max_connections=200 {extraSettings}").TrimEnd();
        ConnectionString = string.Create(CultureInfo.InvariantCulture, $"Host=127.0.0.1;Port={port};Username=postgres;Database=postgres;Timeout=5");
    }

    /// <summary>Gets the loopback port.</summary>
    public int Port { get; }

    /// <summary>Gets a connection string to the cluster's <c>postgres</c> database (superuser, trust).</summary>
    public string ConnectionString { get; }

    /// <summary>
    /// Creates and starts a cluster, or returns null with the reason when PostgreSQL is not installed. A cluster that
    /// cannot be created or started throws <see cref="InvalidOperationException"/> naming the program that failed (its
    /// folder is deleted).
    /// </summary>
    /// <param name="reason">Why there is no cluster, when null is returned.</param>
    /// <param name="extraSettings">More <c>-c name=value</c> server settings (e.g. <c>-c shared_buffers=256MB</c>); none by default.</param>
    public static PostgresCluster? TryCreate(out string? reason, string extraSettings = "")
    {
        var bin = FindBinaries();
        if (bin is null)
        {
            reason = "no PostgreSQL server binaries (/usr/lib/postgresql/*/bin/initdb)";
            return null;
        }

        var root = Path.Combine(Path.GetTempPath(), "chroma-pg-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(root);
        var cluster = new PostgresCluster(bin, root, FreePort(), extraSettings);
        try
        {
            if (IsRoot())
            {
                Run("chown", ["postgres:postgres", root], asPostgres: false, TimeSpan.FromSeconds(30));
            }

            Run(Path.Combine(bin, "initdb"), ["-D", cluster._data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-locale", "--no-sync"],
                asPostgres: true, TimeSpan.FromMinutes(2));
            cluster.Start();
        }
        catch (InvalidOperationException)
        {
            cluster.Dispose();
            throw;
        }

        reason = null;
        return cluster;
    }

    /// <summary>Starts the server and waits until it accepts connections.</summary>
    public void Start() =>
        Run(_pgCtl, ["-D", _data, "-o", _settings, "-l", Path.Combine(_root, "server.log"), "-w", "-t", "120", "start"], asPostgres: true, StartTimeout);

    /// <summary>Stops the server at once: every connection is cut, nothing is shut down cleanly (recovery runs on the next start).</summary>
    public void StopImmediate() => Run(_pgCtl, ["-D", _data, "-m", "immediate", "-w", "stop"], asPostgres: true, StopTimeout);

    /// <summary>Stops the server and deletes the cluster.</summary>
    public void Dispose()
    {
        Run(_pgCtl, ["-D", _data, "-m", "immediate", "-w", "stop"], asPostgres: true, StopTimeout, throwOnFailure: false);
        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (IOException)
        {
            // A leftover temp folder is harmless.
        }
        catch (UnauthorizedAccessException)
        {
            // Likewise.
        }
    }

    // The newest installed major version that has both initdb and pg_ctl.
    private static string? FindBinaries() =>
        Directory.Exists("/usr/lib/postgresql")
            ? Directory.GetDirectories("/usr/lib/postgresql")
                .Select(d => Path.Combine(d, "bin"))
                .Where(b => File.Exists(Path.Combine(b, "initdb")) && File.Exists(Path.Combine(b, "pg_ctl")))
                .OrderByDescending(b => int.TryParse(Path.GetFileName(Path.GetDirectoryName(b)), CultureInfo.InvariantCulture, out var v) ? v : 0)
                .FirstOrDefault()
            : null;

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
