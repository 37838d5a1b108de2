using Chroma.Server.Hosting.Internal;

namespace Chroma.Server.Hosting;

/// <summary>
/// A Chroma server running inside the current process (tests, demos, single-process apps).
/// Dispose it to stop serving and release the data directory.
/// </summary>
public sealed class ChromaServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private int _disposed;

    private ChromaServer(WebApplication app, Uri endpoint, int port, Uri? webEndpoint)
    {
        _app = app;
        Endpoint = endpoint;
        Port = port;
        WebEndpoint = webEndpoint;
    }

    /// <summary>Gets the address clients connect to: <c>http://{host}:{port}</c> (h2c), or <c>https://</c> with a certificate configured.</summary>
    public Uri Endpoint { get; }

    /// <summary>Gets the TCP port the server listens on (the one picked when the options said 0).</summary>
    public int Port { get; }

    /// <summary>
    /// Gets the address of Chroma Studio, the web app (<c>http://{host}:{webPort}/</c>, <c>https://</c> with a
    /// certificate), or <see langword="null"/> when <see cref="ChromaServerOptions.Web"/> turned it off.
    /// </summary>
    public Uri? WebEndpoint { get; }

    /// <summary>
    /// Gets the server's service provider: its options and its own services (store, indexes, scoring), which are internal
    /// types and not part of the supported API.
    /// </summary>
    public IServiceProvider Services => _app.Services;

    /// <summary>
    /// Validates <paramref name="options"/>, opens the data directory (checking the database first when it was not closed
    /// cleanly, see <see cref="Storage.StorageOptions.IntegrityCheck"/>) and starts listening.
    /// </summary>
    /// <param name="options">Where to listen and store; validated, then copied.</param>
    /// <param name="cancellationToken">Cancels the start.</param>
    /// <returns>The started server.</returns>
    /// <exception cref="ChromaServerStartException">The server cannot start: a bad setting, an unreadable certificate, a
    /// damaged database, an unusable data directory or a taken port; the message is one line naming the setting or file,
    /// <see cref="ChromaServerStartException.Failure"/> says which.</exception>
    public static async Task<ChromaServer> StartAsync(ChromaServerOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        // Empty builder: an embedded server must not pick up the host process's appsettings.json,
        // environment variables or command line; everything comes from the options.
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions { Args = [] });
        builder.WebHost.UseKestrelCore();

        // It shares the host's console: only problems are worth printing there.
        builder.Logging.AddConsole().SetMinimumLevel(LogLevel.Warning);

        WebApplication app;
        try
        {
            app = builder.BuildChromaServer(options);
        }
        catch (Exception ex) when (StartFailureClassifier.Classify(ex, options) is { } failure)
        {
            throw failure;
        }

        try
        {
            await app.StartAsync(cancellationToken).ConfigureAwait(false);
            var port = ChromaServerApplication.GetBoundPort(app);
            return new ChromaServer(
                app,
                ChromaServerApplication.GetEndpoint(options.Host, port, tls: options.Certificate?.Path is not null),
                port,
                ChromaServerApplication.GetWebEndpoint(app, options));
        }
        catch (Exception ex)
        {
            await app.DisposeAsync().ConfigureAwait(false);
            if (ex is not OperationCanceledException && StartFailureClassifier.Classify(ex, options) is { } failure)
            {
                throw failure;
            }

            throw;
        }
    }

    /// <summary>
    /// Stops accepting calls, ends open ingest streams with <c>Unavailable</c> (clients retry),
    /// waits for in-flight commits and closes the database so the directory can be reopened at once.
    /// </summary>
    /// <returns>A task that completes when the server is stopped.</returns>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        try
        {
            await _app.StopAsync().ConfigureAwait(false);
        }
        finally
        {
            // Disposing the container disposes the store, which closes its SQLite connections.
            await _app.DisposeAsync().ConfigureAwait(false);
        }
    }
}
