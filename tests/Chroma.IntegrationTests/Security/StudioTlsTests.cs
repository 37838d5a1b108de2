using System.Net;
using Chroma.Server.Hosting;

namespace Chroma.IntegrationTests.Security;

/// <summary>Studio speaks HTTPS with the server's certificate when one is configured, and nothing in plain text.</summary>
[TestFixture]
public sealed class StudioTlsTests
{
    [Test]
    [CancelAfter(60_000)]
    public async Task Studio_CertificateConfigured_ServesHttpsWithItAndRefusesPlainHttp(CancellationToken cancellationToken)
    {
        using var certificate = new SelfSignedCertificate();
        await using var server = await StartAsync(certificate, allowedHosts: null, cancellationToken);
        string? presented = null;
        using var handler = new HttpClientHandler
        {
            // Trust exactly our certificate, and remember which one the server showed.
            ServerCertificateCustomValidationCallback = (_, cert, _, _) =>
            {
                presented = cert?.Thumbprint;
                return cert?.Thumbprint == certificate.PublicCertificate.Thumbprint;
            },
        };
        using var https = new HttpClient(handler);
        using var plain = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };

        var web = server.WebEndpoint!;
        var page = await https.GetAsync(web, cancellationToken);
        var plainUri = new UriBuilder(web) { Scheme = Uri.UriSchemeHttp }.Uri;
        var plainFailed = false;
        try
        {
            var response = await plain.GetAsync(plainUri, cancellationToken);
            plainFailed = response.StatusCode != HttpStatusCode.OK;
        }
        catch (HttpRequestException)
        {
            plainFailed = true;
        }

        Assert.Multiple(() =>
        {
            Assert.That(web.Scheme, Is.EqualTo(Uri.UriSchemeHttps));
            Assert.That(page.StatusCode, Is.EqualTo(HttpStatusCode.OK));
            Assert.That(presented, Is.EqualTo(certificate.PublicCertificate.Thumbprint));
            Assert.That(plainFailed, Is.True, "no plain-text Studio next to the TLS one");
        });
    }

    [Test]
    [CancelAfter(60_000)]
    public async Task Studio_Https_StrictTransportSecurityForANameButNotForLocalhost(CancellationToken cancellationToken)
    {
        using var certificate = new SelfSignedCertificate();
        await using var server = await StartAsync(certificate, allowedHosts: "studio.example", cancellationToken);
        using var handler = new HttpClientHandler { ServerCertificateCustomValidationCallback = (_, cert, _, _) => cert?.Thumbprint == certificate.PublicCertificate.Thumbprint };
        using var https = new HttpClient(handler);

        using var named = new HttpRequestMessage(HttpMethod.Get, server.WebEndpoint);
        named.Headers.Host = "studio.example";
        using var byName = await https.SendAsync(named, cancellationToken);
        using var byAddress = await https.GetAsync(server.WebEndpoint, cancellationToken);

        Assert.Multiple(() =>
        {
            Assert.That(byName.StatusCode, Is.EqualTo(HttpStatusCode.OK));
            Assert.That(byName.Headers.GetValues("Strict-Transport-Security"), Is.EqualTo(new[] { "max-age=2592000" }));
            Assert.That(byAddress.Headers.Contains("Strict-Transport-Security"), Is.False, "not for a loopback address (it would hold for every local service)");
        });
    }

    // A server on free ports whose gRPC and Studio speak HTTPS with the certificate.
    private static Task<ChromaServer> StartAsync(SelfSignedCertificate certificate, string? allowedHosts, CancellationToken cancellationToken) =>
        ChromaServer.StartAsync(
            new ChromaServerOptions
            {
                Host = "127.0.0.1",
                Port = 0,
                DataDirectory = Path.Combine(certificate.Folder, "data"),
                Certificate = { Path = certificate.PfxPath, Password = SelfSignedCertificate.Password },
                Web = { AllowedHosts = allowedHosts },
            },
            cancellationToken);
}
