using System.Security.Cryptography.X509Certificates;
using Chroma.Server.Cli.Connection;
using Grpc.Core;
using Grpc.Core.Interceptors;
using Grpc.Health.V1;
using Grpc.Net.Client;
using Spectre.Console;

namespace Chroma.Server.Cli;

/// <summary>
/// What a command works with: its arguments, where it writes (a Spectre console for people, a plain
/// writer for <c>--json</c> and exported data) and a <see cref="ChromaClient"/> for the server.
/// </summary>
internal sealed class CliContext : IDisposable, IAsyncDisposable
{
    private readonly Lazy<GrpcChannel> _channel;
    private readonly Lazy<ChromaClient> _client;
    private readonly X509Certificate2Collection? _trustedRoots;
    private readonly LocalServer? _localServer;

    /// <summary>Creates the context; the channel and the client open on first use.</summary>
    public CliContext(CliArguments arguments, IAnsiConsole console, TextWriter output, TextWriter error)
    {
        Arguments = arguments;
        Console = console;
        Output = output;
        Error = error;
        var trustedRoot = arguments.Get("trusted-root");
        if (arguments.Get("local") is not null)
        {
            if (arguments.Get("endpoint") is not null || trustedRoot is not null)
            {
                throw new CliUsageException(
                    $"--local finds the server and its certificate by the server's own settings (Chroma:Host, Chroma:Port, Chroma:Certificate); leave out --{(trustedRoot is null ? "endpoint" : "trusted-root")}");
            }

            _localServer = LocalServer.Read();
            Endpoint = _localServer.Endpoint;
        }
        else
        {
            Endpoint = arguments.Endpoint();
            _trustedRoots = trustedRoot is null ? null : TrustedRootFile.Load(trustedRoot);
        }

        _channel = new Lazy<GrpcChannel>(() => CliChannelFactory.Create(Endpoint, _trustedRoots, _localServer?.Certificate));
        _client = new Lazy<ChromaClient>(() => new ChromaClient(_channel.Value, new ChromaClientOptions
        {
            Endpoint = Endpoint,
            ApiKey = Arguments.Get("api-key"),
            RequestTimeout = Timeout,
        }));
    }

    /// <summary>Gets the parsed command line.</summary>
    public CliArguments Arguments { get; }

    /// <summary>Gets the console for tables, progress and messages.</summary>
    public IAnsiConsole Console { get; }

    /// <summary>Gets the writer for machine-readable output (JSON, exported rows).</summary>
    public TextWriter Output { get; }

    /// <summary>Gets the writer for errors and warnings (standard error), which stay out of exported rows and <c>--json</c> output.</summary>
    public TextWriter Error { get; }

    /// <summary>Gets the server found by its own settings (<c>health --local</c>), or null.</summary>
    public LocalServer? LocalServer => _localServer;

    /// <summary>Gets the server address (<c>--endpoint</c>, or the local server's with <c>health --local</c>).</summary>
    public Uri Endpoint { get; }

    /// <summary>Gets the time one call may take (<c>--timeout</c> seconds, default 30).</summary>
    public TimeSpan Timeout => TimeSpan.FromSeconds(Arguments.GetInt("timeout", 30, 1, 3600));

    /// <summary>Gets the client of the server (sends <c>--api-key</c> when given; <c>--timeout</c> per call).</summary>
    public ChromaClient Client => _client.Value;

    /// <summary>Creates a client of the standard gRPC health service, on the same channel.</summary>
    public Health.HealthClient CreateHealthClient()
    {
        var apiKey = Arguments.Get("api-key");
        var invoker = _channel.Value.CreateCallInvoker();
        return new Health.HealthClient(apiKey is null
            ? invoker
            : invoker.Intercept(metadata =>
            {
                metadata.Add(ChromaClient.ApiKeyHeader, apiKey);
                return metadata;
            }));
    }

    /// <inheritdoc />
    public void Dispose() => DisposeAsync().AsTask().GetAwaiter().GetResult();

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        if (_client.IsValueCreated)
        {
            await _client.Value.DisposeAsync().ConfigureAwait(false);
        }

        if (_channel.IsValueCreated)
        {
            _channel.Value.Dispose();
        }

        _localServer?.Dispose();
        foreach (var root in _trustedRoots ?? [])
        {
            root.Dispose();
        }
    }
}
