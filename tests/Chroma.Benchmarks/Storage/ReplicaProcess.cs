using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace Chroma.Benchmarks.Storage;

/// <summary>
/// One replica as its own process: the standalone server (<c>dotnet Chroma.Server.Tool.dll</c>, the <c>chroma-server</c>
/// program, copied next to this benchmark by its project reference) on PostgreSQL (or on SQLite in its data directory
/// when no connection string is given), on a free loopback port, with its own
/// data directory and Studio on a free port. Its log lines (single-line console format, indexing at Debug) are kept
/// so the benchmark can see what the index did; its memory and CPU are read from /proc. Given a log file, every line
/// (Chroma's at Information, indexing and scoring at Debug) is also written there, stamped with the process's age.
/// </summary>
internal sealed class ReplicaProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly List<string> _log = [];
    private readonly Stopwatch _sinceStart;
    private StreamWriter? _logFile;

    private ReplicaProcess(Process process, int port, string dataDirectory, Stopwatch sinceStart, StreamWriter? logFile)
    {
        _process = process;
        _sinceStart = sinceStart;
        _logFile = logFile;
        Port = port;
        DataDirectory = dataDirectory;
        process.OutputDataReceived += (_, e) => Keep(e.Data);
        process.ErrorDataReceived += (_, e) => Keep(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    public int Port { get; }

    public string DataDirectory { get; }

    public Uri Endpoint => new($"http://127.0.0.1:{Port}");

    public int ProcessId => _process.Id;

    /// <summary>Time since the process was started.</summary>
    public TimeSpan Age => _sinceStart.Elapsed;

    /// <summary>
    /// Starts <c>chroma-server</c> on <paramref name="connectionString"/> (null: SQLite in the data directory) with <paramref name="dataDirectory"/> (returns at
    /// once) with <paramref name="environment"/> added to its environment; with <paramref name="logFile"/>, its log lines
    /// also go there.
    /// </summary>
    public static ReplicaProcess Start(string? connectionString, string dataDirectory, IReadOnlyDictionary<string, string>? environment = null, string? logFile = null)
    {
        var tool = Path.Combine(AppContext.BaseDirectory, "Chroma.Server.Tool.dll");
        if (!File.Exists(tool))
        {
            throw new InvalidOperationException($"{tool} is missing: build tests/Chroma.Benchmarks (it references src/Chroma.Server.Tool)");
        }

        var port = FreePort();
        var start = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = AppContext.BaseDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(tool);
        start.Environment["Chroma__Host"] = "127.0.0.1";
        start.Environment["Chroma__Port"] = port.ToString(CultureInfo.InvariantCulture);
        start.Environment["Chroma__DataDirectory"] = dataDirectory;
        if (connectionString is null)
        {
            start.Environment["Chroma__Storage__Provider"] = "Sqlite";
        }
        else
        {
            start.Environment["Chroma__Storage__Provider"] = "Postgres";
            start.Environment["Chroma__Storage__ConnectionString"] = connectionString;
        }

        start.Environment["Chroma__Web__Port"] = "0";
        start.Environment["Logging__LogLevel__Default"] = "Warning";
        start.Environment["Logging__LogLevel__Chroma.Server.Indexing"] = "Debug"; // "Saved the index" is Debug
        start.Environment["Logging__Console__FormatterName"] = "simple";
        start.Environment["Logging__Console__FormatterOptions__SingleLine"] = "true";
        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[name] = value;
        }

        if (logFile is not null)
        {
            start.Environment["Logging__LogLevel__Chroma"] = "Information";
            start.Environment["Logging__LogLevel__Chroma.Server.Recommendations"] = "Debug";
        }

        var writer = logFile is null ? null : new StreamWriter(logFile, append: false) { AutoFlush = true };
        var stopwatch = Stopwatch.StartNew();
        var process = Process.Start(start) ?? throw new InvalidOperationException("could not start chroma-server");
        return new ReplicaProcess(process, port, dataDirectory, stopwatch, writer);
    }

    /// <summary>Waits until the process answers ListSets through <paramref name="client"/> (at most 5 minutes); returns its age then.</summary>
    public async Task<TimeSpan> WaitAnsweringAsync(ChromaClient client)
    {
        ArgumentNullException.ThrowIfNull(client);
        while (true)
        {
            ThrowIfExited();
            if (Age > TimeSpan.FromMinutes(5))
            {
                throw new TimeoutException($"chroma-server on port {Port} did not answer within 5 minutes");
            }

            try
            {
                await client.ListSetsAsync().ConfigureAwait(false);
                return Age;
            }
            catch (ChromaException)
            {
                await Task.Delay(100).ConfigureAwait(false);
            }
        }
    }

    /// <summary>Peak (VmHWM) and current (VmRSS) resident memory in MiB, from /proc/PID/status.</summary>
    public (double PeakMiB, double ResidentMiB) Memory()
    {
        double peak = 0, resident = 0;
        foreach (var line in File.ReadLines($"/proc/{_process.Id}/status"))
        {
            if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
            {
                peak = Kilobytes(line) / 1024.0;
            }
            else if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
            {
                resident = Kilobytes(line) / 1024.0;
            }
        }

        return (peak, resident);
    }

    /// <summary>CPU time (user + system) the process has used so far, from /proc/PID/stat.</summary>
    public TimeSpan Cpu()
    {
        var stat = File.ReadAllText($"/proc/{_process.Id}/stat");
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        var ticks = long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
        return TimeSpan.FromSeconds(ticks / 100.0);
    }

    /// <summary>The log lines so far that contain <paramref name="text"/>.</summary>
    public string[] LogLines(string text)
    {
        lock (_log)
        {
            return [.. _log.Where(l => l.Contains(text, StringComparison.Ordinal))];
        }
    }

    /// <summary>Writes <paramref name="text"/> into the log file (if any) among the replica's lines, stamped like them.</summary>
    public void Mark(string text) => Keep("---- benchmark: " + text, keep: false);

    /// <summary>Throws when the process has ended (with its last log lines).</summary>
    public void ThrowIfExited()
    {
        if (_process.HasExited)
        {
            string tail;
            lock (_log)
            {
                tail = string.Join(Environment.NewLine, _log.TakeLast(20));
            }

            throw new InvalidOperationException($"chroma-server on port {Port} exited with code {_process.ExitCode}:{Environment.NewLine}{tail}");
        }
    }

    /// <summary>SIGTERM (the server saves its changed indexes and stops); returns how long it took to exit.</summary>
    public async Task<TimeSpan> TerminateAsync(TimeSpan timeout)
    {
        var stopwatch = Stopwatch.StartNew();
        using (var kill = Process.Start("kill", ["-TERM", _process.Id.ToString(CultureInfo.InvariantCulture)]))
        {
            await kill.WaitForExitAsync().ConfigureAwait(false);
        }

        using var cancel = new CancellationTokenSource(timeout);
        await _process.WaitForExitAsync(cancel.Token).ConfigureAwait(false);
        return stopwatch.Elapsed;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync().ConfigureAwait(false);
        }

        _process.Dispose();
        lock (_log)
        {
            _logFile?.Dispose();
            _logFile = null;
        }
    }

    private static long Kilobytes(string line) =>
        long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture);

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private void Keep(string? line, bool keep = true)
    {
        if (line is null)
        {
            return;
        }

        lock (_log)
        {
            if (keep)
            {
                _log.Add(line);
            }

            _logFile?.WriteLine(string.Create(CultureInfo.InvariantCulture, $"[{_sinceStart.Elapsed.TotalSeconds,9:F3} s] {line}"));
        }
    }
}
