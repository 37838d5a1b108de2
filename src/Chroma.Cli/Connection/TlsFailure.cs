using Chroma.Transport;

namespace Chroma.Server.Cli.Connection;

/// <summary>
/// Explains a call that failed because TLS and the endpoint disagree (probe Q, Q6): a failed TLS handshake, which
/// Grpc.Net.Client reports as Internal although the server never saw the call, and an <c>http://</c> endpoint on a
/// server that speaks only TLS. Both are "not reachable" (exit code 3) and say what to change.
/// </summary>
internal static class TlsFailure
{
    /// <summary>What went wrong and what to do when the call failed in the TLS handshake; otherwise null.</summary>
    /// <param name="detail">The status detail.</param>
    /// <param name="debug">The transport's exception (the status's debug exception).</param>
    /// <param name="endpoint">The address called.</param>
    public static string? Describe(string detail, Exception? debug, Uri? endpoint)
    {
        if (!TlsHandshake.Failed(detail, debug))
        {
            return null;
        }

        // The client's own recognition (TlsHandshake); the hints name the CLI's options instead of the client's.
        var reason = TlsHandshake.Cause(debug)?.Message ?? detail;
        var everything = $"{detail} {reason}";
        var hint = everything.Contains("UntrustedRoot", StringComparison.Ordinal) || everything.Contains("PartialChain", StringComparison.Ordinal)
            ? "this machine does not trust the server's certificate: pass --trusted-root with the certificate of the CA that issued it "
                + "(for a self-signed certificate, the certificate itself, e.g. the PEM file of Chroma:Certificate:Path); "
                + "on the server's own machine or container, 'health --local' uses the server's settings"
            : everything.Contains("NotTimeValid", StringComparison.Ordinal)
                ? "the server's certificate is outside its validity period (expired, or not valid yet): renew Chroma:Certificate on the server "
                    + "and restart it (and check both machines' clocks); its log says when the certificate ends"
            : everything.Contains("RemoteCertificateNameMismatch", StringComparison.Ordinal)
                ? $"the server's certificate does not name '{endpoint?.Host}': use a host name or address the certificate lists in --endpoint"
                : "if the server has no certificate (Chroma:Certificate) it speaks plain HTTP/2: use http://; if it has one, "
                    + "pass --trusted-root with the certificate of the CA that issued it";
        return $"the TLS handshake failed ({reason.TrimEnd('.')}); {hint}";
    }

    /// <summary>The hint for an <c>http://</c> call whose server never completed the HTTP/2 handshake (a TLS listener); otherwise null.</summary>
    public static string? PlainTextHint(string detail, Exception? debug, Uri? endpoint) =>
        endpoint?.Scheme == Uri.UriSchemeHttp && TlsHandshake.NoHttp2Handshake(detail, debug) ? PlainTextToTlsHint : null;

    /// <summary>What to do when an <c>http://</c> endpoint's listener speaks TLS.</summary>
    public const string PlainTextToTlsHint =
        "if the server has a certificate (Chroma:Certificate) it speaks only TLS: use https:// (with --trusted-root for a self-signed or private-CA certificate)";
}
