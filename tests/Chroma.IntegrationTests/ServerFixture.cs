using Chroma.Server.Hosting;

namespace Chroma.IntegrationTests;

/// <summary>A real Chroma server on 127.0.0.1 with its own temporary data directory.</summary>
internal sealed class ServerFixture : IAsyncDisposable
{
    private readonly Action<ChromaServerOptions>? _configure;

    private ServerFixture(string dataDirectory, ChromaServer server, Action<ChromaServerOptions>? configure)
    {
        DataDirectory = dataDirectory;
        Server = server;
        _configure = configure;
    }

    public string DataDirectory { get; }

    public ChromaServer Server { get; private set; }

    public Uri Endpoint => Server.Endpoint;

    /// <param name="configure">Changes to the server's options (e.g. its <c>Limits</c>), kept for restarts.</param>
    public static async Task<ServerFixture> StartAsync(int port = 0, string? dataDirectory = null, Action<ChromaServerOptions>? configure = null)
    {
        dataDirectory ??= Path.Combine(Path.GetTempPath(), "chroma-it-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dataDirectory);
        var server = await StartServerAsync(dataDirectory, port, configure).ConfigureAwait(false);
        return new ServerFixture(dataDirectory, server, configure);
    }

    /// <summary>Stops the server and starts a new one on the same port and data directory.</summary>
    public async Task RestartAsync(Func<Task>? whileDown = null)
    {
        var port = Server.Port;
        await Server.DisposeAsync().ConfigureAwait(false);
        if (whileDown is not null)
        {
            await whileDown().ConfigureAwait(false);
        }

        Server = await StartServerAsync(DataDirectory, port, _configure).ConfigureAwait(false);
    }

    public async Task StopAsync() => await Server.DisposeAsync().ConfigureAwait(false);

    public async ValueTask DisposeAsync()
    {
        await Server.DisposeAsync().ConfigureAwait(false);
        try
        {
            Directory.Delete(DataDirectory, recursive: true);
        }
        catch (IOException)
        {
            // A file still held by a closing handle: leave the temp folder behind.
        }
    }

    private static Task<ChromaServer> StartServerAsync(string dataDirectory, int port, Action<ChromaServerOptions>? configure)
    {
        var options = new ChromaServerOptions
        {
            Host = "127.0.0.1",
            Port = port,
            DataDirectory = dataDirectory,

            // A restart reuses the gRPC port, and a fixed one would put the web app on its default 50052, which another
            // server (another test assembly, a developer's own) may hold: a free one instead.
            Web = { Port = 0 },
        };
        configure?.Invoke(options);
        return ChromaServer.StartAsync(options);
    }
}
