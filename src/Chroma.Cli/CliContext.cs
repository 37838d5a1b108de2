using Chroma.Protocol.V1;
using Grpc.Core;
using Grpc.Core.Interceptors;
using Grpc.Health.V1;
using Grpc.Net.Client;
using Spectre.Console;

namespace Chroma.Server.Cli;

/// <summary>
/// What a command works with: its arguments, where it writes (a Spectre console for people, a plain
/// writer for <c>--json</c> and exported data) and a connection to the server.
/// </summary>
internal sealed class CliContext : IDisposable
{
    private readonly Lazy<GrpcChannel> _channel;

    /// <summary>Creates the context; the channel opens on first use.</summary>
    public CliContext(CliArguments arguments, IAnsiConsole console, TextWriter output)
    {
        Arguments = arguments;
        Console = console;
        Output = output;
        Endpoint = arguments.Endpoint();
        _channel = new Lazy<GrpcChannel>(() => GrpcChannel.ForAddress(Endpoint, new GrpcChannelOptions
        {
            // Exports and reports read whole pages of embeddings.
            MaxReceiveMessageSize = 256 * 1024 * 1024,
        }));
    }

    /// <summary>Gets the parsed command line.</summary>
    public CliArguments Arguments { get; }

    /// <summary>Gets the console for tables, progress and messages.</summary>
    public IAnsiConsole Console { get; }

    /// <summary>Gets the writer for machine-readable output (JSON, exported rows).</summary>
    public TextWriter Output { get; }

    /// <summary>Gets the server address (<c>--endpoint</c>).</summary>
    public Uri Endpoint { get; }

    /// <summary>Gets the deadline for one call (<c>--timeout</c> seconds, default 30).</summary>
    public DateTime Deadline() => DateTime.UtcNow.AddSeconds(Arguments.GetInt("timeout", 30, 1, 3600));

    /// <summary>Creates a client of the <c>Query</c> service that sends <c>--api-key</c> when given.</summary>
    public Query.QueryClient CreateQueryClient() => new(CallInvoker());

    /// <summary>Creates a client of the <c>Labeling</c> service (labels, reviews, promotion).</summary>
    public Protocol.V1.Labeling.LabelingClient CreateLabelingClient() => new(CallInvoker());

    /// <summary>Creates a client of the <c>Ingest</c> service (for <c>import</c>).</summary>
    public Ingest.IngestClient CreateIngestClient() => new(CallInvoker());

    /// <summary>Creates a client of the standard gRPC health service.</summary>
    public Health.HealthClient CreateHealthClient() => new(CallInvoker());

    /// <inheritdoc />
    public void Dispose()
    {
        if (_channel.IsValueCreated)
        {
            _channel.Value.Dispose();
        }
    }

    private CallInvoker CallInvoker()
    {
        var apiKey = Arguments.Get("api-key");
        var invoker = _channel.Value.CreateCallInvoker();
        return apiKey is null
            ? invoker
            : invoker.Intercept(metadata =>
            {
                metadata.Add("x-api-key", apiKey);
                return metadata;
            });
    }
}
