using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Chroma.IntegrationTests.Security;

/// <summary>A throw-away TLS server certificate for 127.0.0.1/localhost, written to a temp folder as PFX and as PEM.</summary>
internal sealed class SelfSignedCertificate : IDisposable
{
    public const string Password = "pfx-pass-9a7c";

    public SelfSignedCertificate()
    {
        Directory.CreateDirectory(Folder);
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=chroma-test", key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddIpAddress(IPAddress.Loopback);
        names.AddDnsName("localhost");
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, critical: true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], critical: false));
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(certificateAuthority: false, hasPathLengthConstraint: false, 0, critical: true));
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1));

        File.WriteAllBytes(PfxPath, certificate.Export(X509ContentType.Pfx, Password));
        File.WriteAllText(PemCertificatePath, certificate.ExportCertificatePem());
        File.WriteAllText(PemKeyPath, key.ExportPkcs8PrivateKeyPem());
        PublicCertificate = X509CertificateLoader.LoadCertificate(certificate.Export(X509ContentType.Cert));
    }

    public string Folder { get; } = Path.Combine(Path.GetTempPath(), "chroma-tls-" + Guid.NewGuid().ToString("N"));

    public string PfxPath => Path.Combine(Folder, "server.pfx");

    public string PemCertificatePath => Path.Combine(Folder, "server.crt");

    public string PemKeyPath => Path.Combine(Folder, "server.key");

    /// <summary>The certificate without its key: what a client is given to trust.</summary>
    public X509Certificate2 PublicCertificate { get; }

    public void Dispose()
    {
        PublicCertificate.Dispose();
        Directory.Delete(Folder, recursive: true);
    }
}
