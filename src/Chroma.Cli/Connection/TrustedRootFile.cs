using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Chroma.Server.Cli.Connection;

/// <summary>Reads <c>--trusted-root</c>: one or more certificates in PEM (a CA bundle too) or one in DER.</summary>
internal static class TrustedRootFile
{
    /// <summary>The certificates in <paramref name="path"/>; a missing or unreadable file is a usage error naming the option.</summary>
    public static X509Certificate2Collection Load(string path)
    {
        if (!File.Exists(path))
        {
            throw new CliUsageException($"--trusted-root names no file (got '{path}')");
        }

        var roots = new X509Certificate2Collection();
        try
        {
            // PEM blocks other than CERTIFICATE (a private key beside it) are skipped.
            roots.ImportFromPemFile(path);
            if (roots.Count == 0)
            {
                roots.Add(X509CertificateLoader.LoadCertificateFromFile(path));
            }
        }
        catch (CryptographicException ex)
        {
            throw new CliUsageException(
                $"--trusted-root: '{path}' holds no certificate in PEM or DER form ({ex.Message.TrimEnd('.')}); for a .pfx, export its certificate first: openssl pkcs12 -in server.pfx -nokeys -out server.pem");
        }

        return roots;
    }
}
