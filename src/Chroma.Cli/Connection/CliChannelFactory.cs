using System.Security.Cryptography.X509Certificates;
using Grpc.Net.Client;

namespace Chroma.Server.Cli.Connection;

/// <summary>
/// The CLI's channel to a server: the default handler (the operating system's trusted roots), one that trusts only
/// <c>--trusted-root</c> (as <see cref="ChromaClientOptions.TrustedRootCertificate"/> does: the chain and the host name
/// are still checked), or, for <c>health --local</c>, one that accepts exactly the server's own certificate.
/// </summary>
internal static class CliChannelFactory
{
    /// <summary>Exports and reports read whole pages of embeddings.</summary>
    public const int MaxReceiveMessageBytes = 256 * 1024 * 1024;

    /// <summary>Creates the channel to <paramref name="endpoint"/>.</summary>
    /// <param name="endpoint">The server's address.</param>
    /// <param name="trustedRoots">The only roots to trust (<c>--trusted-root</c>), or null for the operating system's.</param>
    /// <param name="serverCertificate">The one certificate to accept, whatever its chain and names (<c>health --local</c>), or null.</param>
    public static GrpcChannel Create(Uri endpoint, X509Certificate2Collection? trustedRoots, X509Certificate2? serverCertificate)
    {
        var options = new GrpcChannelOptions { MaxReceiveMessageSize = MaxReceiveMessageBytes };
        if (trustedRoots is not null || serverCertificate is not null)
        {
            var handler = new SocketsHttpHandler { EnableMultipleHttp2Connections = true };
            if (serverCertificate is not null)
            {
                // The probe of the server on this machine connects to a loopback address its certificate rarely names, and
                // the certificate may come from a CA this machine does not trust: the exact certificate the server is
                // configured with is the strongest check there is, so chain and name are not asked for.
                var expected = serverCertificate.RawData;
                handler.SslOptions.RemoteCertificateValidationCallback = (_, certificate, _, _) =>
                    certificate is not null && certificate.GetRawCertData().AsSpan().SequenceEqual(expected);
            }
            else
            {
                var policy = new X509ChainPolicy { TrustMode = X509ChainTrustMode.CustomRootTrust, RevocationMode = X509RevocationMode.NoCheck };
                policy.CustomTrustStore.AddRange(trustedRoots!);
                handler.SslOptions.CertificateChainPolicy = policy;
            }

            options.HttpHandler = handler;
            options.DisposeHttpClient = true;
        }

        return GrpcChannel.ForAddress(endpoint, options);
    }
}
