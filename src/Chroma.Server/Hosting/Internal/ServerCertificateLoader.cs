using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Chroma.Server.Security;

namespace Chroma.Server.Hosting.Internal;

/// <summary>Loads the TLS certificate named by <see cref="CertificateOptions.Path"/>.</summary>
internal static class ServerCertificateLoader
{
    private const string Prefix = StartFailureClassifier.CertificateSettingPrefix;

    /// <summary>
    /// The certificate with its private key, or null when the options ask for plain-text HTTP/2.
    /// PKCS#12 files (<c>.pfx</c>, <c>.p12</c>) are read with the password; anything else is read as PEM,
    /// the key coming from <see cref="CertificateOptions.KeyPath"/> or the certificate file.
    /// </summary>
    /// <exception cref="ArgumentException">The file cannot be read as a certificate with a private key (the message
    /// names the setting at fault and the cause, never the password: <see cref="CertificateLoadFailure"/>).</exception>
    public static X509Certificate2? Load(CertificateOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.Path is not { } path)
        {
            return null;
        }

        X509Certificate2 certificate;
        var pkcs12 = IsPkcs12(path);
        try
        {
            certificate = pkcs12
                ? X509CertificateLoader.LoadPkcs12FromFile(path, options.Password)
                : LoadPem(path, options.KeyPath, options.Password);
        }
        catch (Exception ex) when (ex is CryptographicException or ArgumentException)
        {
            // An ECDSA key that is not the certificate's throws ArgumentException ("The provided key does not match the
            // public key for this certificate."), an RSA one CryptographicException.
            // The inner exception can quote the file, never the password: it is safe to keep.
            throw new ArgumentException(
                pkcs12 ? CertificateLoadFailure.DescribePkcs12(options, ex) : CertificateLoadFailure.DescribePem(options, ex),
                nameof(options),
                ex);
        }

        if (!certificate.HasPrivateKey)
        {
            certificate.Dispose();
            throw new ArgumentException(
                $"{Prefix}Path: \"{path}\" has no private key; set {Prefix}KeyPath to the PEM key file.",
                nameof(options));
        }

        return certificate;
    }

    private static bool IsPkcs12(string path) =>
        Path.GetExtension(path).ToUpperInvariant() is ".PFX" or ".P12";

    private static X509Certificate2 LoadPem(string certificatePath, string? keyPath, string? password) =>
        password is null
            ? X509Certificate2.CreateFromPemFile(certificatePath, keyPath)
            : X509Certificate2.CreateFromEncryptedPemFile(certificatePath, password, keyPath);
}
