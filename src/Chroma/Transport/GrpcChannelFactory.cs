using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using Grpc.Net.Client;

namespace Chroma.Transport;

/// <summary>Creates the client's HTTP/2 channel: one long-lived connection pool with keep-alive pings.</summary>
internal static class GrpcChannelFactory
{
    /// <summary>The largest message the client sends or accepts (a full page of embeddings).</summary>
    public const int MaxMessageBytes = 64 * 1024 * 1024;

    /// <summary>One channel per endpoint (<see cref="ChromaClientOptions.Endpoints"/>, or the single <see cref="ChromaClientOptions.Endpoint"/>).</summary>
    public static GrpcChannel[] CreateAll(ChromaClientOptions options) =>
        [.. options.ServerEndpoints.Select(endpoint => Create(options, endpoint))];

    public static GrpcChannel Create(ChromaClientOptions options, Uri endpoint) =>
        GrpcChannel.ForAddress(endpoint, new GrpcChannelOptions
        {
            HttpHandler = options.HttpHandler ?? CreateHandler(options.TrustedRootCertificate),
            MaxSendMessageSize = MaxMessageBytes,
            MaxReceiveMessageSize = MaxMessageBytes,
            // Warning and up: at Information the channel logs every failed attempt with a stack trace of several KB,
            // beside the client's own one-line warning that names the endpoint and the cause.
            LoggerFactory = options.LoggerFactory is { } loggers ? new Diagnostics.NonThrowingLoggerFactory(loggers, Microsoft.Extensions.Logging.LogLevel.Warning) : null,
            // A handler the caller passed is theirs to dispose; the one built here is the channel's.
            DisposeHttpClient = options.HttpHandler is null,
        });

    private static SocketsHttpHandler CreateHandler(X509Certificate2? trustedRoot)
    {
        var handler = new SocketsHttpHandler
        {
            EnableMultipleHttp2Connections = true,
            ConnectTimeout = TimeSpan.FromSeconds(10),
            KeepAlivePingDelay = TimeSpan.FromSeconds(30),
            KeepAlivePingTimeout = TimeSpan.FromSeconds(10),
            PooledConnectionIdleTimeout = Timeout.InfiniteTimeSpan,
        };
        if (trustedRoot is not null)
        {
            // Custom root trust rather than a "accept anything" callback: the chain and the host
            // name are still checked, only the trust anchor is ours.
            handler.SslOptions = new SslClientAuthenticationOptions
            {
                CertificateChainPolicy = new X509ChainPolicy
                {
                    TrustMode = X509ChainTrustMode.CustomRootTrust,
                    RevocationMode = X509RevocationMode.NoCheck,
                    CustomTrustStore = { trustedRoot },
                },
            };
        }

        return handler;
    }
}
