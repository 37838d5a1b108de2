using System.Security.Cryptography.X509Certificates;
using Chroma.Server.Security;

namespace Chroma.Server.Hosting.Internal;

/// <summary>Loads the TLS certificate named by <see cref="CertificateOptions.Path"/>.</summary>
internal static class ServerCertificateLoader
{
    /// <summary>
    /// The certificate with its private key, or null when the options ask for plain-text HTTP/2.
    /// PKCS#12 files (<c>.pfx</c>, <c>.p12</c>) are read with the password; anything else is read as PEM,
    /// the key coming from <see cref="CertificateOptions.KeyPath"/> or the certificate file.
    /// </summary>
    /// <exception cref="ArgumentException">The file cannot be read as a certificate with a private key
    /// (the message names the option, never the password).</exception>
    public static X509Certificate2? Load(CertificateOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.Path is not { } path)
        {
            return null;
        }

        X509Certificate2 certificate;
        try
        {
            certificate = IsPkcs12(path)
                ? X509CertificateLoader.LoadPkcs12FromFile(path, options.Password)
                : LoadPem(path, options.KeyPath, options.Password);
        }
        catch (System.Security.Cryptography.CryptographicException ex)
        {
            // The inner exception can quote the file, never the password: it is safe to keep.
            throw new ArgumentException(
                $"{StartFailureClassifier.CertificateSettingPrefix}Path: \"{path}\" could not be read as a certificate with its private key ({ex.Message}).",
                nameof(options),
                ex);
        }

        if (!certificate.HasPrivateKey)
        {
            certificate.Dispose();
            throw new ArgumentException(
                $"{StartFailureClassifier.CertificateSettingPrefix}Path: \"{path}\" has no private key; set {StartFailureClassifier.CertificateSettingPrefix}KeyPath to the PEM key file.",
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
