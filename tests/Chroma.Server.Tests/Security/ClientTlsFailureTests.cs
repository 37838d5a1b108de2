extern alias client;

using Chroma.Server.Tests.Reliability;
using Chroma.Server.Tests.TestSupport;
using Microsoft.Extensions.Logging;
using ChromaClient = client::Chroma.ChromaClient;
using ChromaClientOptions = client::Chroma.ChromaClientOptions;
using ClientException = client::Chroma.ChromaException;
using EmbeddingSetDescriptor = client::Chroma.EmbeddingSetDescriptor;

namespace Chroma.Server.Tests.Security;

/// <summary>
/// The .NET client against real TLS servers (probe Q, Q6): a failed handshake says to set
/// <c>ChromaClientOptions.TrustedRootCertificate</c>, <c>http://</c> to a TLS server says to use <c>https://</c>, and a
/// query whose handshake fails on one replica fails over to the next, as one answered Unavailable does.
/// </summary>
[TestFixture]
public sealed class ClientTlsFailureTests
{
    private TestCertificates _certificates = null!;
    private CertificateFiles _untrusted = null!;
    private CertificateFiles _trusted = null!;

    [OneTimeSetUp]
    public void CreateCertificates()
    {
        _certificates = new TestCertificates();
        _untrusted = _certificates.SelfSigned("untrusted");
        _trusted = _certificates.SelfSigned("trusted");
    }

    [OneTimeTearDown]
    public void DeleteCertificates() => _certificates.Dispose();

    [Test, CancelAfter(60_000)]
    public async Task ListSetsAsync_UntrustedCertificate_MessageNamesTrustedRootCertificate(CancellationToken cancellationToken)
    {
        await using var server = await StartAsync(_untrusted);
        await using var client = new ChromaClient(new ChromaClientOptions { Endpoint = server.Server.Endpoint, RequestTimeout = TimeSpan.FromSeconds(10) });

        var ex = Assert.ThrowsAsync<ClientException>(async () => await client.ListSetsAsync(cancellationToken));

        Assert.That(ex!.Message, Does.Contain("is not reachable: the TLS handshake failed").And.Contain("ChromaClientOptions.TrustedRootCertificate"));
    }

    [Test, CancelAfter(60_000)]
    public async Task ListSetsAsync_HttpToTlsServer_MessageSaysUseHttps(CancellationToken cancellationToken)
    {
        await using var server = await StartAsync(_untrusted);
        var plain = new UriBuilder(server.Server.Endpoint) { Scheme = Uri.UriSchemeHttp }.Uri;
        await using var client = new ChromaClient(new ChromaClientOptions { Endpoint = plain, RequestTimeout = TimeSpan.FromSeconds(10) });

        var ex = Assert.ThrowsAsync<ClientException>(async () => await client.ListSetsAsync(cancellationToken));

        Assert.That(ex!.Message, Does.Contain("use https://"));
    }

    [Test, CancelAfter(60_000)]
    public async Task ListSetsAsync_FirstReplicaFailsTheTlsHandshake_AnsweredByTheNext(CancellationToken cancellationToken)
    {
        // Replica 1's certificate is not trusted (a replaced or wrong certificate): the call never reached it.
        await using var first = await StartAsync(_untrusted);
        await using var second = await StartAsync(_trusted);
        using var root = System.Security.Cryptography.X509Certificates.X509CertificateLoader.LoadCertificateFromFile(_trusted.CertificatePath);
        var options = new ChromaClientOptions { TrustedRootCertificate = root, RequestTimeout = TimeSpan.FromSeconds(10) };
        options.Endpoints.Add(first.Server.Endpoint);
        options.Endpoints.Add(second.Server.Endpoint);
        await using var client = new ChromaClient(options);

        var sets = await client.ListSetsAsync(cancellationToken);

        Assert.That(sets, Is.Empty);
    }

    [Test, CancelAfter(60_000)]
    public async Task Send_UntrustedCertificate_OutageWarningNamesTrustedRootCertificate(CancellationToken cancellationToken)
    {
        await using var server = await StartAsync(_untrusted);
        var logs = new CapturingLoggerProvider();
        using var loggers = LoggerFactory.Create(b => b.AddProvider(logs).SetMinimumLevel(LogLevel.Warning));
        await using var client = new ChromaClient(new ChromaClientOptions
        {
            Endpoint = server.Server.Endpoint,
            LoggerFactory = loggers,
            FlushInterval = TimeSpan.FromMilliseconds(10),
            DrainTimeout = TimeSpan.FromMilliseconds(100),
        });

        client.GetEmbeddingSet(new EmbeddingSetDescriptor("tls-warning", "1", "fc", 4)).LogTraining([1, 2, 3, 4]);
        while (!logs.Entries.Any(e => e.Level == LogLevel.Warning && e.Message.Contains("TLS handshake", StringComparison.Ordinal)))
        {
            await Task.Delay(50, cancellationToken);
        }

        var warning = logs.Entries.First(e => e.Level == LogLevel.Warning && e.Message.Contains("TLS handshake", StringComparison.Ordinal));
        Assert.That(warning.Message, Does.Contain("ChromaClientOptions.TrustedRootCertificate").And.Contain("does not trust the server's certificate"));
    }

    private static Task<RunningServer> StartAsync(CertificateFiles files) =>
        RunningServer.StartAsync(o =>
        {
            o.Web.Enabled = false;
            o.Certificate.Path = files.CertificatePath;
            o.Certificate.KeyPath = files.KeyPath;
        });
}
