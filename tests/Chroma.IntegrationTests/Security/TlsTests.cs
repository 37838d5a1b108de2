using Chroma;
using Chroma.Server.Hosting;

namespace Chroma.IntegrationTests.Security;

[TestFixture]
public sealed class TlsTests
{
    private SelfSignedCertificate _certificate = null!;

    [OneTimeSetUp]
    public void CreateCertificate() => _certificate = new SelfSignedCertificate();

    [OneTimeTearDown]
    public void DeleteCertificate() => _certificate.Dispose();

    [TestCase(false, TestName = "LogAndQuery_OverHttpsWithPfxCertificate_Delivered")]
    [TestCase(true, TestName = "LogAndQuery_OverHttpsWithPemCertificateAndKey_Delivered")]
    [CancelAfter(60_000)]
    public async Task LogAndQuery_OverHttps_Delivered(bool pem, CancellationToken cancellationToken)
    {
        // Arrange
        await using var server = await StartServerAsync(pem, cancellationToken);
        await using var client = new ChromaClient(new ChromaClientOptions
        {
            Endpoint = server.Endpoint,
            TrustedRootCertificate = _certificate.PublicCertificate,
            FlushInterval = TimeSpan.FromMilliseconds(10),
        });
        var set = client.GetEmbeddingSet(new EmbeddingSetDescriptor("it-tls", "1", "fc", 4));

        // Act
        for (var i = 0; i < 10; i++)
        {
            Assert.That(set.LogTraining([i, 1, 2, 3]), Is.True);
        }

        await client.FlushAsync(cancellationToken);
        var count = await client.CountAsync(set.Descriptor.Id, cancellationToken: cancellationToken);

        // Assert
        Assert.Multiple(() =>
        {
            Assert.That(server.Endpoint.Scheme, Is.EqualTo(Uri.UriSchemeHttps));
            Assert.That(client.Statistics.Exported, Is.EqualTo(10));
            Assert.That(count, Is.EqualTo(10));
        });
    }

    [Test, CancelAfter(60_000)]
    public async Task Query_OverHttpsWithoutTrustingTheCertificate_FailsTheTlsHandshake(CancellationToken cancellationToken)
    {
        // Arrange: the client trusts only the operating system's roots, which do not include ours.
        await using var server = await StartServerAsync(pem: false, cancellationToken);
        await using var client = new ChromaClient(new ChromaClientOptions { Endpoint = server.Endpoint });

        // Act
        var ex = Assert.ThrowsAsync<ChromaException>(async () => await client.ListSetsAsync(cancellationToken));

        // Assert: Grpc.Net.Client reports a failed handshake as Internal, with the SSL error inside.
        Assert.Multiple(() =>
        {
            Assert.That(ex!.StatusCode, Is.EqualTo(Grpc.Core.StatusCode.Internal));
            Assert.That(ex.ToString(), Does.Contain("SSL connection could not be established"));
        });
    }

    [Test, CancelAfter(60_000)]
    public async Task Query_PlainHttpToTlsServer_Fails(CancellationToken cancellationToken)
    {
        // Arrange: h2c against a TLS listener must not silently work.
        await using var server = await StartServerAsync(pem: false, cancellationToken);
        var plain = new UriBuilder(server.Endpoint) { Scheme = Uri.UriSchemeHttp }.Uri;
        await using var client = new ChromaClient(new ChromaClientOptions { Endpoint = plain, RequestTimeout = TimeSpan.FromSeconds(10) });

        // Act + Assert
        Assert.ThrowsAsync<ChromaException>(async () => await client.ListSetsAsync(cancellationToken));
    }

    private Task<ChromaServer> StartServerAsync(bool pem, CancellationToken cancellationToken) =>
        ChromaServer.StartAsync(
            new ChromaServerOptions
            {
                Host = "127.0.0.1",
                Port = 0,
                DataDirectory = Path.Combine(_certificate.Folder, "data-" + Guid.NewGuid().ToString("N")),
                Certificate =
                {
                    Path = pem ? _certificate.PemCertificatePath : _certificate.PfxPath,
                    KeyPath = pem ? _certificate.PemKeyPath : null,
                    Password = pem ? null : SelfSignedCertificate.Password,
                },
            },
            cancellationToken);
}
