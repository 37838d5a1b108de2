using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Grpc.Health.V1;
using Grpc.Net.Client;

namespace Chroma.IntegrationTests.Load;

/// <summary>
/// The standalone server (<c>dotnet Chroma.Server.dll</c>) in its own process, so its memory can be
/// read from <c>/proc</c> apart from the test's own. Stopped (killed) on dispose; the data folder is deleted.
/// </summary>
internal sealed class StandaloneServer : IAsyncDisposable
{
    private readonly Process _process;

    private StandaloneServer(Process process, int port, string dataDirectory)
    {
        _process = process;
        Endpoint = new Uri($"http://127.0.0.1:{port}");
        DataDirectory = dataDirectory;
    }

    public Uri Endpoint { get; }

    public string DataDirectory { get; }

    /// <summary>Resident memory of the server process now, in MiB (Linux: VmRSS from /proc).</summary>
    public double ResidentMiB
    {
        get
        {
            var path = $"/proc/{_process.Id}/status";
            if (File.Exists(path))
            {
                var line = File.ReadLines(path).First(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
                return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) / 1024.0;
            }

            _process.Refresh();
            return _process.WorkingSet64 / (1024.0 * 1024.0);
        }
    }

    /// <summary>CPU time the server process has used so far.</summary>
    public TimeSpan ProcessorTime
    {
        get
        {
            _process.Refresh();
            return _process.TotalProcessorTime;
        }
    }

    public static async Task<StandaloneServer> StartAsync(CancellationToken cancellationToken)
    {
        int port;
        using (var listener = new TcpListener(IPAddress.Loopback, 0))
        {
            listener.Start();
            port = ((IPEndPoint)listener.LocalEndpoint).Port;
        }

        var dataDirectory = Path.Combine(Path.GetTempPath(), "chroma-soak-" + Guid.NewGuid().ToString("N"));
        var start = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = AppContext.BaseDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "Chroma.Server.dll"));
        start.Environment["Chroma__Host"] = "127.0.0.1";
        start.Environment["Chroma__Port"] = port.ToString(CultureInfo.InvariantCulture);
        start.Environment["Chroma__DataDirectory"] = dataDirectory;
        start.Environment["Logging__LogLevel__Default"] = "Warning";
        var process = Process.Start(start) ?? throw new InvalidOperationException("could not start the server process");
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var server = new StandaloneServer(process, port, dataDirectory);
        try
        {
            await server.WaitHealthyAsync(cancellationToken);
            return server;
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
        try
        {
            Directory.Delete(DataDirectory, recursive: true);
        }
        catch (IOException)
        {
            // Left behind in the temp folder.
        }
    }

    private async Task WaitHealthyAsync(CancellationToken cancellationToken)
    {
        using var channel = GrpcChannel.ForAddress(Endpoint);
        var health = new Health.HealthClient(channel);
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (true)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"the server process exited with code {_process.ExitCode} while starting");
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
}
