using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Chroma.Server.Hosting;
using Chroma.Server.Tests.Reliability;
using Chroma.Server.Tests.TestSupport;
using Grpc.Health.V1;
using Grpc.Net.Client;

namespace Chroma.Server.Tests.Security;

[TestFixture]
public sealed class CertificateOptionsTests
{
    private const string Password = "pfx-secret-3be1";
    private TempDirectory _folder = null!;
    private string _pfxPath = null!;
    private X509Certificate2 _public = null!;

    [OneTimeSetUp]
    public void CreateCertificate()
    {
        _folder = new TempDirectory();
        using var key = RSA.Create(2048);
        var request = new CertificateRequest("CN=chroma-server-test", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var names = new SubjectAlternativeNameBuilder();
        names.AddIpAddress(IPAddress.Loopback);
        request.CertificateExtensions.Add(names.Build());
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1));
        _pfxPath = Path.Combine(_folder.Path, "server.pfx");
        File.WriteAllBytes(_pfxPath, certificate.Export(X509ContentType.Pfx, Password));
        _public = X509CertificateLoader.LoadCertificate(certificate.Export(X509ContentType.Cert));
    }

    [OneTimeTearDown]
    public void DeleteCertificate()
    {
        _public.Dispose();
        _folder.Dispose();
    }

    [Test, CancelAfter(30_000)]
    public async Task StartAsync_TlsAtTraceLogging_ServesHttpsAndNeverLogsThePassword()
    {
        // Arrange
        await using var server = await LoggedServer.StartAsync(o =>
        {
            o.Certificate.Path = _pfxPath;
            o.Certificate.Password = Password;
        });
        using var handler = new SocketsHttpHandler();
        handler.SslOptions.CertificateChainPolicy = new X509ChainPolicy
        {
            TrustMode = X509ChainTrustMode.CustomRootTrust,
            RevocationMode = X509RevocationMode.NoCheck,
            CustomTrustStore = { _public },
        };
        using var channel = GrpcChannel.ForAddress(server.Endpoint, new GrpcChannelOptions { HttpHandler = handler, DisposeHttpClient = false });

        // Act
        var health = await new Health.HealthClient(channel).CheckAsync(new HealthCheckRequest(), deadline: DateTime.UtcNow.AddSeconds(10));

        // Assert
        var logs = server.Logs.AllText().ToList();
        Assert.Multiple(() =>
        {
            Assert.That(health.Status, Is.EqualTo(HealthCheckResponse.Types.ServingStatus.Serving));
            Assert.That(logs, Is.Not.Empty);
            Assert.That(logs.Where(l => l.Contains(Password, StringComparison.Ordinal)), Is.Empty);
        });
    }

    [Test, CancelAfter(30_000)]
    public void StartAsync_WrongCertificatePassword_StartExceptionNamingTheFileNotThePassword()
    {
        // Arrange
        using var data = new TempDirectory();
        var options = new ChromaServerOptions
        {
            Host = "127.0.0.1",
            Port = 0,
            DataDirectory = data.Path,
            Certificate = { Path = _pfxPath, Password = Password + "-wrong" },
        };

        // Act
        var ex = Assert.ThrowsAsync<ChromaServerStartException>(async () => await ChromaServer.StartAsync(options));

        // Assert
        Assert.Multiple(() =>
        {
            Assert.That(ex!.Failure, Is.EqualTo(ChromaServerStartFailure.Certificate));
            Assert.That(ex.ExitCode, Is.EqualTo(6));
            Assert.That(ex.Message, Does.StartWith("Chroma:Certificate:Password: the password does not open").And.Contain(_pfxPath));
            Assert.That(ex.Message, Does.Not.Contain("\n"));
            Assert.That(ex.ToString(), Does.Not.Contain(Password));
        });
    }

    [TestCase("CertificateKeyPath", TestName = "Validate_KeyPathWithoutCertificatePath_CertificateStartException")]
    [TestCase("CertificatePassword", TestName = "Validate_PasswordWithoutCertificatePath_CertificateStartException")]
    [TestCase("MissingFile", TestName = "Validate_CertificatePathToMissingFile_CertificateStartException")]
    public void StartAsync_InconsistentCertificateOptions_CertificateStartException(string broken)
    {
        // Arrange
        var options = new ChromaServerOptions { Host = "127.0.0.1", Port = 0, DataDirectory = _folder.Path };
        switch (broken)
        {
            case "CertificateKeyPath": options.Certificate.KeyPath = _pfxPath; break;
            case "CertificatePassword": options.Certificate.Password = Password; break;
            default: options.Certificate.Path = Path.Combine(_folder.Path, "missing.pfx"); break;
        }

        // Act
        var ex = Assert.ThrowsAsync<ChromaServerStartException>(async () => await ChromaServer.StartAsync(options));

        // Assert
        Assert.That(ex!.Message, Does.StartWith("Chroma:Certificate:"));
        Assert.That(ex.Failure, Is.EqualTo(ChromaServerStartFailure.Certificate));
    }
}
