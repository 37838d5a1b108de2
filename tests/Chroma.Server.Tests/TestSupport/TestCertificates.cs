using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Chroma.Server.Tests.TestSupport;

/// <summary>
/// Throw-away TLS certificates written to a temp folder: self-signed ones for 127.0.0.1, and a private CA with a server
/// certificate that names only a DNS name (as a production certificate does), in PEM (plain and encrypted key) and PKCS#12.
/// </summary>
internal sealed class TestCertificates : IDisposable
{
    public const string Password = "cert-pass-51d2";

    private readonly TempDirectory _folder = new();

    public string Folder => _folder.Path;

    /// <summary>A self-signed server certificate for 127.0.0.1 and localhost, written as <c>{name}.crt</c>, <c>{name}.key</c>,
    /// <c>{name}.enc.key</c> (encrypted with <see cref="Password"/>), <c>{name}.pfx</c> (with <see cref="Password"/>) and
    /// <c>{name}.nopass.pfx</c>.</summary>
    public CertificateFiles SelfSigned(string name) => SelfSigned(name, DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1));

    /// <summary>A self-signed certificate as <see cref="SelfSigned(string)"/> writes one, valid from <paramref name="notBefore"/> to <paramref name="notAfter"/>.</summary>
    public CertificateFiles SelfSigned(string name, DateTimeOffset notBefore, DateTimeOffset notAfter)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = ServerRequest("CN=" + name, key, names => { names.AddIpAddress(IPAddress.Loopback); names.AddDnsName("localhost"); });
        using var certificate = request.CreateSelfSigned(notBefore, notAfter);
        return Write(name, certificate, key);
    }

    /// <summary>
    /// A server certificate issued by a private CA that names only <paramref name="dnsName"/> (not 127.0.0.1), written as
    /// <see cref="SelfSigned"/> writes one, with the CA's certificate as <c>{name}.ca.crt</c>.
    /// </summary>
    public CertificateFiles IssuedByPrivateCa(string name, string dnsName)
    {
        using var caKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var caRequest = new CertificateRequest("CN=" + name + "-ca", caKey, HashAlgorithmName.SHA256);
        caRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(certificateAuthority: true, hasPathLengthConstraint: false, 0, critical: true));
        caRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, critical: true));
        caRequest.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(caRequest.PublicKey, critical: false));
        using var ca = caRequest.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-10), DateTimeOffset.UtcNow.AddDays(2));

        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = ServerRequest("CN=" + dnsName, key, names => names.AddDnsName(dnsName));
        using var issued = request.Create(ca, DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1), [1, 2, 3, 4, 5, 6, 7, 8]);
        using var withKey = issued.CopyWithPrivateKey(key);
        var files = Write(name, withKey, key);
        File.WriteAllText(files.CaCertificatePath, ca.ExportCertificatePem());
        return files;
    }

    public void Dispose() => _folder.Dispose();

    private static CertificateRequest ServerRequest(string subject, ECDsa key, Action<SubjectAlternativeNameBuilder> addNames)
    {
        var request = new CertificateRequest(subject, key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        addNames(names);
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, critical: true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], critical: false));
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(certificateAuthority: false, hasPathLengthConstraint: false, 0, critical: true));
        return request;
    }

    private CertificateFiles Write(string name, X509Certificate2 certificate, ECDsa key)
    {
        var files = new CertificateFiles(Path.Combine(Folder, name));
        File.WriteAllText(files.CertificatePath, certificate.ExportCertificatePem());
        File.WriteAllText(files.KeyPath, key.ExportPkcs8PrivateKeyPem());
        File.WriteAllText(
            files.EncryptedKeyPath,
            key.ExportEncryptedPkcs8PrivateKeyPem(Password, new PbeParameters(PbeEncryptionAlgorithm.Aes256Cbc, HashAlgorithmName.SHA256, 100_000)));
        using var withKey = certificate.HasPrivateKey ? X509CertificateLoader.LoadPkcs12(certificate.Export(X509ContentType.Pfx), null) : certificate.CopyWithPrivateKey(key);
        File.WriteAllBytes(files.PfxPath, withKey.Export(X509ContentType.Pfx, Password));
        File.WriteAllBytes(files.PasswordlessPfxPath, withKey.Export(X509ContentType.Pfx));
        return files;
    }
}

/// <summary>The files of one certificate (<see cref="TestCertificates"/>).</summary>
internal sealed record CertificateFiles(string Stem)
{
    public string CertificatePath => Stem + ".crt";

    public string KeyPath => Stem + ".key";

    public string EncryptedKeyPath => Stem + ".enc.key";

    public string PfxPath => Stem + ".pfx";

    public string PasswordlessPfxPath => Stem + ".nopass.pfx";

    public string CaCertificatePath => Stem + ".ca.crt";
}
