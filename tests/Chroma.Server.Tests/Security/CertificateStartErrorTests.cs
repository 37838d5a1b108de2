using Chroma.Server.Hosting;
using Chroma.Server.Tests.TestSupport;

namespace Chroma.Server.Tests.Security;

/// <summary>
/// A certificate that cannot be loaded stops the start with exit code 6 and one line that names the setting to change and
/// why (probe Q, Q7: a mismatched key, a key given as the certificate's place, a password for an unencrypted key and a
/// PKCS#12 file without its password all named Chroma:Certificate:Path, or blamed a password never given).
/// </summary>
[TestFixture]
public sealed class CertificateStartErrorTests
{
    private TestCertificates _certificates = null!;
    private CertificateFiles _server = null!;
    private CertificateFiles _other = null!;

    [OneTimeSetUp]
    public void CreateCertificates()
    {
        _certificates = new TestCertificates();
        _server = _certificates.SelfSigned("server");
        _other = _certificates.SelfSigned("other");
    }

    [OneTimeTearDown]
    public void DeleteCertificates() => _certificates.Dispose();

    [Test, CancelAfter(30_000)]
    public void StartAsync_KeyOfAnotherCertificate_NamesKeyPathAndSaysTheyAreNotAPair()
    {
        var ex = StartFails(o => { o.Path = _server.CertificatePath; o.KeyPath = _other.KeyPath; });

        Assert.That(ex.Message, Does.StartWith("Chroma:Certificate:KeyPath:").And.Contain(_other.KeyPath).And.Contain("not a pair"));
    }

    [Test, CancelAfter(30_000)]
    public void StartAsync_CertificateGivenAsKeyPath_NamesKeyPathAndSaysItHoldsACertificate()
    {
        var ex = StartFails(o => { o.Path = _server.CertificatePath; o.KeyPath = _server.CertificatePath; });

        Assert.That(ex.Message, Does.StartWith("Chroma:Certificate:KeyPath:").And.Contain("no PEM private key but a certificate"));
    }

    [Test, CancelAfter(30_000)]
    public void StartAsync_KeyGivenAsPath_NamesPathAndSaysItHoldsAKey()
    {
        var ex = StartFails(o => { o.Path = _server.KeyPath; o.KeyPath = _server.KeyPath; });

        Assert.That(ex.Message, Does.StartWith("Chroma:Certificate:Path:").And.Contain("no PEM certificate but a private key"));
    }

    [Test, CancelAfter(30_000)]
    public void StartAsync_PasswordForUnencryptedPemKey_SaysTheKeyIsNotEncryptedAndToRemoveThePassword()
    {
        var ex = StartFails(o => { o.Path = _server.CertificatePath; o.KeyPath = _server.KeyPath; o.Password = TestCertificates.Password; });

        Assert.Multiple(() =>
        {
            Assert.That(ex.Message, Does.StartWith("Chroma:Certificate:Password is set").And.Contain("is not encrypted: remove Chroma:Certificate:Password"));
            Assert.That(ex.ToString(), Does.Not.Contain(TestCertificates.Password));
        });
    }

    [Test, CancelAfter(30_000)]
    public void StartAsync_EncryptedPemKeyWithoutPassword_SaysToSetThePassword()
    {
        var ex = StartFails(o => { o.Path = _server.CertificatePath; o.KeyPath = _server.EncryptedKeyPath; });

        Assert.That(ex.Message, Does.StartWith("Chroma:Certificate:KeyPath:").And.Contain("is encrypted; set Chroma:Certificate:Password"));
    }

    [Test, CancelAfter(30_000)]
    public void StartAsync_WrongPasswordForEncryptedPemKey_NamesThePassword()
    {
        var ex = StartFails(o => { o.Path = _server.CertificatePath; o.KeyPath = _server.EncryptedKeyPath; o.Password = "not-" + TestCertificates.Password; });

        Assert.Multiple(() =>
        {
            Assert.That(ex.Message, Does.StartWith("Chroma:Certificate:Password: the password does not decrypt"));
            Assert.That(ex.ToString(), Does.Not.Contain(TestCertificates.Password));
        });
    }

    [Test, CancelAfter(30_000)]
    public void StartAsync_Pkcs12WithoutItsPassword_SaysAPasswordIsNeeded()
    {
        var ex = StartFails(o => o.Path = _server.PfxPath);

        Assert.That(ex.Message, Does.StartWith("Chroma:Certificate:Password:").And.Contain("could not be read without a password; if it has one, set Chroma:Certificate:Password"));
    }

    [Test, CancelAfter(30_000)]
    public void StartAsync_PasswordForPkcs12WithoutOne_SaysToRemoveThePassword()
    {
        var ex = StartFails(o => { o.Path = _server.PasswordlessPfxPath; o.Password = TestCertificates.Password; });

        Assert.That(ex.Message, Does.StartWith("Chroma:Certificate:Password is set").And.Contain("has no password: remove Chroma:Certificate:Password"));
    }

    [TestCase(false, TestName = "StartAsync_PemCertificateAndKey_Starts")]
    [TestCase(true, TestName = "StartAsync_PemCertificateAndEncryptedKeyWithPassword_Starts")]
    [CancelAfter(30_000)]
    public async Task StartAsync_MatchingPemFiles_Starts(bool encrypted)
    {
        using var data = new TempDirectory();
        var options = new ChromaServerOptions { Host = "127.0.0.1", Port = 0, DataDirectory = data.Path };
        options.Web.Enabled = false;
        options.Certificate.Path = _server.CertificatePath;
        options.Certificate.KeyPath = encrypted ? _server.EncryptedKeyPath : _server.KeyPath;
        options.Certificate.Password = encrypted ? TestCertificates.Password : null;

        await using var server = await ChromaServer.StartAsync(options).WaitAsync(TimeSpan.FromSeconds(20));

        Assert.That(server.Endpoint.Scheme, Is.EqualTo(Uri.UriSchemeHttps));
    }

    private static ChromaServerStartException StartFails(Action<Chroma.Server.Security.CertificateOptions> certificate)
    {
        using var data = new TempDirectory();
        var options = new ChromaServerOptions { Host = "127.0.0.1", Port = 0, DataDirectory = data.Path };
        options.Web.Enabled = false;
        certificate(options.Certificate);

        var ex = Assert.ThrowsAsync<ChromaServerStartException>(async () => await ChromaServer.StartAsync(options).WaitAsync(TimeSpan.FromSeconds(20)));

        Assert.Multiple(() =>
        {
            Assert.That(ex!.Failure, Is.EqualTo(ChromaServerStartFailure.Certificate));
            Assert.That(ex.ExitCode, Is.EqualTo(6));
            Assert.That(ex.Message, Does.Not.Contain("\n"));
        });
        return ex!;
    }
}
