using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Grpc.Health.V1;
using Grpc.Net.Client;

namespace Chroma.IntegrationTests.Reliability;

/// <summary>
/// The standalone Chroma server (<c>dotnet Chroma.Server.Tool.dll</c>, the <c>chroma-server</c> program) in its own process, so a test can SIGKILL it the way
/// a crash, OOM kill or power loss would, and start it again on the same port and data directory.
/// </summary>
internal sealed class ServerProcess : IAsyncDisposable
{
    private readonly bool _deleteDataOnDispose;
    private const int KeptLines = 40;

    private readonly IReadOnlyDictionary<string, string> _settings;
    private readonly ConcurrentQueue<string> _lastLines = new();
    private Process? _process;

    /// <param name="dataDirectory">The server's data directory.</param>
    /// <param name="port">The port it listens on (127.0.0.1).</param>
    /// <param name="deleteDataOnDispose">Whether disposing deletes the data directory.</param>
    /// <param name="settings">Further environment settings of the process (e.g. <c>Chroma__Scoring__Debounce</c>).</param>
    public ServerProcess(string dataDirectory, int port, bool deleteDataOnDispose = false, IReadOnlyDictionary<string, string>? settings = null)
    {
        DataDirectory = dataDirectory;
        Port = port;
        _deleteDataOnDispose = deleteDataOnDispose;
        _settings = settings ?? new Dictionary<string, string>();
    }

    /// <summary>Resident memory of the running server process, in MiB (Linux: VmRSS from /proc).</summary>
    public double ResidentMiB
    {
        get
        {
            var process = _process ?? throw new InvalidOperationException("the server is not running");
            var path = $"/proc/{process.Id}/status";
            if (File.Exists(path))
            {
                var line = File.ReadLines(path).First(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
                return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], System.Globalization.CultureInfo.InvariantCulture) / 1024.0;
            }

            process.Refresh();
            return process.WorkingSet64 / (1024.0 * 1024.0);
        }
    }

    /// <summary>CPU time the running server process has used so far.</summary>
    public TimeSpan ProcessorTime
    {
        get
        {
            var process = _process ?? throw new InvalidOperationException("the server is not running");
            process.Refresh();
            return process.TotalProcessorTime;
        }
    }

    public string DataDirectory { get; }

    public int Port { get; }

    /// <summary>Extra environment variables for the next <see cref="StartAsync"/> (server settings such as <c>Chroma__ShutdownTimeout</c>).</summary>
    public Dictionary<string, string> Settings { get; } = new(StringComparer.Ordinal);

    public Uri Endpoint => new($"http://127.0.0.1:{Port}");

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>Starts the process and waits (up to <paramref name="startTimeout"/>, default 60 s) until its gRPC health check answers SERVING.</summary>
    public async Task StartAsync(CancellationToken cancellationToken, TimeSpan? startTimeout = null)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = AppContext.BaseDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "Chroma.Server.Tool.dll"));
        start.Environment["Chroma__Host"] = "127.0.0.1";
        start.Environment["Chroma__Port"] = Port.ToString(System.Globalization.CultureInfo.InvariantCulture);
        start.Environment["Chroma__DataDirectory"] = DataDirectory;

        // A fixed gRPC port would put the web app on its default 50052, which another server may hold; the settings may
        // still name one.
        start.Environment["Chroma__Web__Port"] = "0";
        start.Environment["Logging__LogLevel__Default"] = "Warning";
        foreach (var (name, value) in _settings.Concat(Settings))
        {
            start.Environment[name] = value;
        }

        _process = Process.Start(start) ?? throw new InvalidOperationException("could not start the server process");
        _lastLines.Clear();
        _process.OutputDataReceived += (_, e) => Keep(e.Data);
        _process.ErrorDataReceived += (_, e) => Keep(e.Data);
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        await WaitHealthyAsync(startTimeout ?? TimeSpan.FromSeconds(60), cancellationToken);
    }

    /// <summary>
    /// Runs <c>dotnet Chroma.Server.Tool.dll</c>, the <c>chroma-server</c> program with <paramref name="arguments"/> and <paramref name="environment"/> until it
    /// exits (a failed start, a command); kills it after <paramref name="timeout"/>.
    /// </summary>
    public static async Task<(int ExitCode, string Output, string Error)> RunToExitAsync(
        IReadOnlyDictionary<string, string> environment, TimeSpan timeout, params string[] arguments)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = AppContext.BaseDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "Chroma.Server.Tool.dll"));
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        start.Environment["Chroma__Host"] = "127.0.0.1";
        start.Environment["Chroma__Port"] = FreePort().ToString(System.Globalization.CultureInfo.InvariantCulture);
        start.Environment["Chroma__Web__Port"] = "0";
        foreach (var (name, value) in environment)
        {
            start.Environment[name] = value;
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException("could not start the server process");
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var cancel = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(cancel.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"chroma-server {string.Join(' ', arguments)} did not exit within {timeout}");
        }

        return (process.ExitCode, await output, await error);
    }

    /// <summary>SIGTERM (what `docker stop` and Kubernetes send); returns how long the process took to exit, and its exit code.</summary>
    public async Task<(TimeSpan Elapsed, int ExitCode)> TerminateAsync(TimeSpan timeout)
    {
        var process = _process ?? throw new InvalidOperationException("the server is not running");
        var stopwatch = Stopwatch.StartNew();
        using (var kill = Process.Start("kill", ["-TERM", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
        {
            await kill.WaitForExitAsync();
        }

        using var cancel = new CancellationTokenSource(timeout);
        await process.WaitForExitAsync(cancel.Token);
        return (stopwatch.Elapsed, process.ExitCode);
    }

    /// <summary>SIGKILL: no shutdown hooks, no flush; only what was durable survives.</summary>
    public async Task KillAsync()
    {
        if (_process is { HasExited: false } process)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
        }

        _process?.Dispose();
        _process = null;
    }

    public async ValueTask DisposeAsync()
    {
        await KillAsync();
        if (_deleteDataOnDispose)
        {
            try
            {
                Directory.Delete(DataDirectory, recursive: true);
            }
            catch (IOException)
            {
                // Left behind in the temp folder.
            }
        }
    }

    private async Task WaitHealthyAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var channel = GrpcChannel.ForAddress(Endpoint);
        var health = new Health.HealthClient(channel);
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            if (_process!.HasExited)
            {
                // Its last lines say why (the output streams end with the process).
                _process.WaitForExit();
                throw new ServerExitedException(_process.ExitCode, [.. _lastLines]);
            }

            try
            {
                var reply = await health.CheckAsync(new HealthCheckRequest(), deadline: DateTime.UtcNow.AddSeconds(2), cancellationToken: cancellationToken);
                if (reply.Status == HealthCheckResponse.Types.ServingStatus.Serving)
                {
                    return;
                }
            }
            catch (Grpc.Core.RpcException) when (DateTime.UtcNow < deadline)
            {
                // Not listening yet.
            }

            await Task.Delay(50, cancellationToken);
        }
    }

    /// <summary>Keeps the last <see cref="KeptLines"/> lines the process wrote, for the exception of a failed start.</summary>
    private void Keep(string? line)
    {
        if (line is null)
        {
            return;
        }

        _lastLines.Enqueue(line);
        while (_lastLines.Count > KeptLines && _lastLines.TryDequeue(out _))
        {
        }
    }
}
