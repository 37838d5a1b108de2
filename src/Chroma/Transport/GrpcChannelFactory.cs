using Grpc.Net.Client;

namespace Chroma.Transport;

/// <summary>Creates the client's HTTP/2 channel: one long-lived connection pool with keep-alive pings.</summary>
internal static class GrpcChannelFactory
{
    /// <summary>The largest message the client sends or accepts (a full page of embeddings).</summary>
    public const int MaxMessageBytes = 64 * 1024 * 1024;

    public static GrpcChannel Create(ChromaClientOptions options) =>
        GrpcChannel.ForAddress(options.Endpoint, new GrpcChannelOptions
        {
            HttpHandler = new SocketsHttpHandler
            {
                EnableMultipleHttp2Connections = true,
                ConnectTimeout = TimeSpan.FromSeconds(10),
                KeepAlivePingDelay = TimeSpan.FromSeconds(30),
                KeepAlivePingTimeout = TimeSpan.FromSeconds(10),
                PooledConnectionIdleTimeout = Timeout.InfiniteTimeSpan,
            },
            MaxSendMessageSize = MaxMessageBytes,
            MaxReceiveMessageSize = MaxMessageBytes,
            LoggerFactory = options.LoggerFactory,
            DisposeHttpClient = true,
        });
}
