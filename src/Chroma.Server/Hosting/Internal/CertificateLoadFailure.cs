using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Chroma.Server.Security;

namespace Chroma.Server.Hosting.Internal;

/// <summary>
/// Says which certificate setting is at fault when the certificate and its key cannot be loaded, and why. .NET's own
/// messages name no setting and give one text for several causes ("The key contents do not contain a PEM, the content is
/// malformed, or the key does not match the certificate."; "the password may be incorrect" for a password that was never
/// given): probe Q, Q7. Each message starts with the setting to change and never quotes the password.
/// </summary>
internal static class CertificateLoadFailure
{
    private const string Prefix = StartFailureClassifier.CertificateSettingPrefix;
    private const string EncryptedKeyLabel = "ENCRYPTED PRIVATE KEY";
    private static readonly string[] PlainKeyLabels = ["PRIVATE KEY", "RSA PRIVATE KEY", "EC PRIVATE KEY"];

    /// <summary>Why a PKCS#12 file did not load: no password given, one given for a file without one, or a wrong one.</summary>
    public static string DescribePkcs12(CertificateOptions options, Exception exception)
    {
        var path = options.Path!;
        if (options.Password is null)
        {
            return $"{Prefix}Password: \"{path}\" ({Prefix}Path) could not be read without a password; if it has one, set {Prefix}Password ({Reason(exception)}).";
        }

        if (OpensWithoutPassword(path))
        {
            return $"{Prefix}Password is set, but \"{path}\" ({Prefix}Path) has no password: remove {Prefix}Password.";
        }

        return $"{Prefix}Password: the password does not open \"{path}\" ({Prefix}Path), or the file is not a PKCS#12 certificate with its private key ({Reason(exception)}).";
    }

    /// <summary>
    /// Why a PEM certificate and key did not load: no certificate in <c>Path</c>, no key in <c>KeyPath</c> (or in <c>Path</c>
    /// without one), a password for a key that is not encrypted or none for one that is, a wrong password, or a key that
    /// is not the certificate's.
    /// </summary>
    public static string DescribePem(CertificateOptions options, Exception exception)
    {
        var path = options.Path!;
        var keyPath = options.KeyPath ?? path;
        var keySetting = Prefix + (options.KeyPath is null ? "Path" : "KeyPath");
        var certificateText = ReadText(path);
        var keyText = options.KeyPath is null ? certificateText : ReadText(keyPath);
        var certificateLabels = PemLabels(certificateText);
        var keyLabels = PemLabels(keyText);
        var encrypted = keyLabels.Contains(EncryptedKeyLabel);
        var plain = keyLabels.Any(PlainKeyLabels.Contains);

        if (!certificateLabels.Contains("CERTIFICATE"))
        {
            var isKey = certificateLabels.Contains(EncryptedKeyLabel) || certificateLabels.Any(PlainKeyLabels.Contains);
            return $"{Prefix}Path: \"{path}\" holds no PEM certificate{(isKey ? " but a private key: Path takes the certificate, KeyPath its key" : string.Empty)} ({Reason(exception)}).";
        }

        if (!encrypted && !plain)
        {
            return options.KeyPath is null
                ? $"{Prefix}Path: \"{path}\" holds a certificate but no private key; set {Prefix}KeyPath to the PEM key file ({Reason(exception)})."
                : $"{Prefix}KeyPath: \"{keyPath}\" holds no PEM private key{(keyLabels.Contains("CERTIFICATE") ? " but a certificate: KeyPath takes the private key of the certificate in Path" : string.Empty)} ({Reason(exception)}).";
        }

        if (options.Password is not null && !encrypted)
        {
            return $"{Prefix}Password is set, but the private key in \"{keyPath}\" ({keySetting}) is not encrypted: remove {Prefix}Password.";
        }

        if (options.Password is null && encrypted)
        {
            return $"{keySetting}: the private key in \"{keyPath}\" is encrypted; set {Prefix}Password to its password.";
        }

        if (!KeyReadable(keyText, options.Password))
        {
            return encrypted
                ? $"{Prefix}Password: the password does not decrypt the private key in \"{keyPath}\" ({keySetting}) ({Reason(exception)})."
                : $"{keySetting}: the private key in \"{keyPath}\" could not be read (not an RSA or ECDSA key, or damaged) ({Reason(exception)}).";
        }

        return options.KeyPath is null
            ? $"{Prefix}Path: the private key in \"{path}\" is not the key of the certificate in it; put the certificate's own key there, or set {Prefix}KeyPath to its file."
            : $"{Prefix}KeyPath: the private key in \"{keyPath}\" is not the key of the certificate in \"{path}\" ({Prefix}Path): the two files are not a pair.";
    }

    private static string Reason(Exception exception) =>
        (exception is ArgumentException argument ? argument.Message.Replace($" (Parameter '{argument.ParamName}')", string.Empty, StringComparison.Ordinal) : exception.Message)
            .ReplaceLineEndings(" ").TrimEnd('.');

    private static string ReadText(string path)
    {
        try
        {
            return File.ReadAllText(path);
        }
        catch (IOException)
        {
            return string.Empty;
        }
        catch (UnauthorizedAccessException)
        {
            return string.Empty;
        }
    }

    // The labels of the PEM blocks in the text ("CERTIFICATE", "PRIVATE KEY", ...), in order.
    private static List<string> PemLabels(string text)
    {
        var labels = new List<string>();
        var rest = text.AsSpan();
        while (PemEncoding.TryFind(rest, out var fields))
        {
            labels.Add(rest[fields.Label].ToString());
            rest = rest[fields.Location.End..];
        }

        return labels;
    }

    // Whether the key reads as RSA or ECDSA (the kinds a TLS server certificate has), decrypted with the password when given.
    private static bool KeyReadable(string keyText, string? password)
    {
        foreach (var create in new Func<AsymmetricAlgorithm>[] { RSA.Create, ECDsa.Create })
        {
            using var key = create();
            try
            {
                if (password is null)
                {
                    key.ImportFromPem(keyText);
                }
                else
                {
                    key.ImportFromEncryptedPem(keyText, password);
                }

                return true;
            }
            catch (ArgumentException)
            {
            }
            catch (CryptographicException)
            {
            }
        }

        return false;
    }

    private static bool OpensWithoutPassword(string path)
    {
        try
        {
            using var certificate = X509CertificateLoader.LoadPkcs12FromFile(path, password: null);
            return true;
        }
        catch (CryptographicException)
        {
            return false;
        }
    }
}
