using System.Net;
using System.Security.Cryptography.X509Certificates;
using Chroma.Server.Hosting.Internal;
using Chroma.Server.Security.Internal;

namespace Chroma.Server.Cli.Connection;

/// <summary>
/// <c>health --local</c>: the server on this machine, found by its own settings (the configuration the server reads:
/// its <c>appsettings.json</c>, <c>Chroma__*</c> environment variables), so a container's health check works with and
/// without TLS: <c>Chroma:Port</c> on loopback (or on <c>Chroma:Host</c> when that is one address), <c>https://</c>
/// when <c>Chroma:Certificate:Path</c> is set, and then only that certificate is accepted.
/// </summary>
internal sealed class LocalServer : IDisposable
{
    private LocalServer(Uri endpoint, X509Certificate2? certificate)
    {
        Endpoint = endpoint;
        Certificate = certificate;
    }

    /// <summary>Gets the address the server listens on, as seen from this machine.</summary>
    public Uri Endpoint { get; }

    /// <summary>Gets the server's certificate (without its key), or null when it speaks plain-text HTTP/2.</summary>
    public X509Certificate2? Certificate { get; }

    /// <summary>
    /// Gets what is wrong with the certificate's dates at <paramref name="now"/> (expired, not valid yet, or expiring
    /// within 14 days: the server's own log says the same, <see cref="CertificateValidityWatch"/>) and whether clients
    /// that check dates refuse it, or null. Only the certificate itself is
    /// accepted here, whatever its dates; every other client checks them (probe X, X4).
    /// </summary>
    public (string Problem, bool Refused)? CertificateProblem(DateTimeOffset now)
    {
        if (Certificate is null)
        {
            return null;
        }

        var (notBefore, notAfter) = CertificateValidityWatch.Dates(Certificate);
        return CertificateValidityWatch.Problem(notBefore, notAfter, now) is { } problem
            ? (problem, CertificateValidityWatch.Refused(notBefore, notAfter, now))
            : null;
    }

    /// <summary>Reads the server's settings; the certificate is loaded as the server loads it (same messages when it cannot be).</summary>
    public static LocalServer Read()
    {
        var options = StandaloneServer.ReadOptions([]);
        if (options.Port == 0)
        {
            throw new CliUsageException("--local: the server's Chroma:Port is 0 (a free port picked at start), so its port is not known here; pass --endpoint");
        }

        var host = options.Host is "*" or "" or "localhost" || IPAddress.TryParse(options.Host, out var address) && (address.Equals(IPAddress.Any) || address.Equals(IPAddress.IPv6Any))
            ? IPAddress.Loopback.ToString()
            : options.Host;
        X509Certificate2? certificate = null;
        if (options.Certificate.Path is not null)
        {
            using var withKey = ServerCertificateLoader.Load(options.Certificate)!;
            certificate = X509CertificateLoader.LoadCertificate(withKey.RawData);
        }

        return new LocalServer(ChromaServerApplication.GetEndpoint(host, options.Port, tls: certificate is not null), certificate);
    }

    /// <inheritdoc />
    public void Dispose() => Certificate?.Dispose();
}
