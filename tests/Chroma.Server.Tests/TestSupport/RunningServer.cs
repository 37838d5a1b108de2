using Chroma.Protocol.V1;
using Chroma.Server.Hosting;
using Grpc.Core;
using Grpc.Core.Interceptors;
using Grpc.Net.Client;

namespace Chroma.Server.Tests.TestSupport;

/// <summary>A real <see cref="ChromaServer"/> on 127.0.0.1 (port 0) with its own temp data directory and a channel to it.</summary>
internal sealed class RunningServer : IAsyncDisposable
{
    private readonly TempDirectory? _ownedDirectory;

    private RunningServer(ChromaServer server, TempDirectory? ownedDirectory, string? apiKey)
    {
        Server = server;
        _ownedDirectory = ownedDirectory;
        Channel = GrpcChannel.ForAddress(server.Endpoint);
        var invoker = apiKey is null ? Channel.CreateCallInvoker() : Channel.CreateCallInvoker().Intercept(m => { m.Add("x-api-key", apiKey); return m; });
        Ingest = new Ingest.IngestClient(invoker);
        Query = new Query.QueryClient(invoker);
    }

    public ChromaServer Server { get; }

    public GrpcChannel Channel { get; }

    public Ingest.IngestClient Ingest { get; }

    public Query.QueryClient Query { get; }

    public static Task<RunningServer> StartAsync(string? dataDirectory = null, string? apiKey = null, string? clientApiKey = null, int port = 0) =>
        StartAsync(o => { o.Port = port; o.ApiKey = apiKey; o.Web.Port = 0; }, dataDirectory, clientApiKey ?? apiKey);

    /// <summary>Starts a server on 127.0.0.1 with options set by <paramref name="configure"/> (port 0, a temp data directory unless given).</summary>
    public static async Task<RunningServer> StartAsync(Action<ChromaServerOptions> configure, string? dataDirectory = null, string? clientApiKey = null)
    {
        var owned = dataDirectory is null ? new TempDirectory() : null;
        var options = new ChromaServerOptions { Host = "127.0.0.1", Port = 0, DataDirectory = dataDirectory ?? owned!.Path };
        configure(options);
        var server = await ChromaServer.StartAsync(options).WaitAsync(TimeSpan.FromSeconds(30));
        return new RunningServer(server, owned, clientApiKey);
    }

    /// <summary>Sends every batch on one stream and returns the acks in order.</summary>
    public async Task<List<LogAck>> LogAsync(params LogBatch[] batches)
    {
        using var call = Ingest.Log(deadline: DateTime.UtcNow.AddSeconds(30));
        var acks = new List<LogAck>();
        foreach (var batch in batches)
        {
            try
            {
                await call.RequestStream.WriteAsync(batch);
            }
            catch (RpcException)
            {
                // The server ended the call before the write (e.g. a refused API key): the write may only see the
                // stream cancelled; reading the response throws with the status the server gave.
                await call.ResponseStream.MoveNext(CancellationToken.None);
                throw;
            }

            Assert.That(await call.ResponseStream.MoveNext(CancellationToken.None), Is.True, "an ack for every batch");
            acks.Add(call.ResponseStream.Current);
        }

        await call.RequestStream.CompleteAsync();
        return acks;
    }

    /// <summary>
    /// Writes every batch on one stream without waiting for acks (the server pipelines them) while a reader collects
    /// the acks; returns them in arrival order.
    /// </summary>
    public async Task<List<LogAck>> LogPipelinedAsync(IReadOnlyList<LogBatch> batches, TimeSpan timeout)
    {
        using var call = Ingest.Log(deadline: DateTime.UtcNow + timeout);
        var reader = Task.Run(async () =>
        {
            var acks = new List<LogAck>();
            while (acks.Count < batches.Count && await call.ResponseStream.MoveNext(CancellationToken.None))
            {
                acks.Add(call.ResponseStream.Current);
            }

            return acks;
        });
        foreach (var batch in batches)
        {
            await call.RequestStream.WriteAsync(batch);
        }

        await call.RequestStream.CompleteAsync();
        return await reader;
    }

    public async ValueTask DisposeAsync()
    {
        Channel.Dispose();
        await Server.DisposeAsync();
        _ownedDirectory?.Dispose();
    }
}
