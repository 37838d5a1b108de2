namespace Chroma.Server.Security;

/// <summary>
/// The TLS certificate the server speaks HTTPS with (section <c>Chroma:Certificate</c>, e.g.
/// <c>Chroma__Certificate__Path</c>), for gRPC and Studio alike. Without one the server speaks plain-text HTTP/2 (h2c),
/// for loopback or behind a TLS-terminating proxy.
/// </summary>
public sealed class CertificateOptions
{
    /// <summary>The configuration section, below <c>Chroma</c>.</summary>
    public const string SectionName = "Certificate";

    /// <summary>
    /// Gets or sets the path of the server certificate: a PKCS#12 file (<c>.pfx</c>/<c>.p12</c>, with
    /// <see cref="Password"/> when it has one) or a PEM certificate (<c>.pem</c>/<c>.crt</c>, with <see cref="KeyPath"/>).
    /// When set the server speaks HTTPS with HTTP/2 only and the embedded server's endpoint is <c>https://</c>. The
    /// default value is <see langword="null"/>: plain-text HTTP/2 (h2c).
    /// </summary>
    public string? Path { get; set; }

    /// <summary>
    /// Gets or sets the password of the PKCS#12 file (or of an encrypted PEM key). Never logged.
    /// The default value is <see langword="null"/>: no password.
    /// </summary>
    public string? Password { get; set; }

    /// <summary>
    /// Gets or sets the PEM private key file that goes with a PEM <see cref="Path"/>. The default value is
    /// <see langword="null"/>: the key is read from the certificate file itself (PKCS#12, or a PEM file holding both).
    /// </summary>
    public string? KeyPath { get; set; }

    /// <summary>Copies these options.</summary>
    internal CertificateOptions Clone() => (CertificateOptions)MemberwiseClone();
}
