using System.Security.Authentication;

namespace Chroma.Server.Cli.Connection;

/// <summary>
/// Explains a call that failed because TLS and the endpoint disagree (probe Q, Q6): a failed TLS handshake, which
/// Grpc.Net.Client reports as Internal although the server never saw the call, and an <c>http://</c> endpoint on a
/// server that speaks only TLS. Both are "not reachable" (exit code 3) and say what to change.
/// </summary>
internal static class TlsFailure
{
    private const string HandshakeFailed = "SSL connection could not be established";
    private const string Http2HandshakeIncomplete = "did not complete the HTTP/2 handshake";

    /// <summary>What went wrong and what to do when the call failed in the TLS handshake; otherwise null.</summary>
    /// <param name="detail">The status detail.</param>
    /// <param name="debug">The transport's exception (the status's debug exception).</param>
    /// <param name="endpoint">The address called.</param>
    public static string? Describe(string detail, Exception? debug, Uri? endpoint)
    {
        Exception? cause = null;
        var failed = detail.Contains(HandshakeFailed, StringComparison.Ordinal);
        for (var current = debug; current is not null; current = current.InnerException)
        {
            if (current is AuthenticationException)
            {
                cause = current;
                failed = true;
                break;
            }

            if (current.Message.Contains(HandshakeFailed, StringComparison.Ordinal))
            {
                failed = true;
                cause = current.InnerException?.GetBaseException();
            }
        }

        if (!failed)
        {
            return null;
        }

        var reason = cause?.Message ?? detail;
        var everything = $"{detail} {reason}";
        var hint = everything.Contains("UntrustedRoot", StringComparison.Ordinal) || everything.Contains("PartialChain", StringComparison.Ordinal)
            ? "this machine does not trust the server's certificate: pass --trusted-root with the certificate of the CA that issued it "
                + "(for a self-signed certificate, the certificate itself, e.g. the PEM file of Chroma:Certificate:Path); "
                + "on the server's own machine or container, 'health --local' uses the server's settings"
            : everything.Contains("RemoteCertificateNameMismatch", StringComparison.Ordinal)
                ? $"the server's certificate does not name '{endpoint?.Host}': use a host name or address the certificate lists in --endpoint"
                : "if the server has no certificate (Chroma:Certificate) it speaks plain HTTP/2: use http://; if it has one, "
                    + "pass --trusted-root with the certificate of the CA that issued it";
        return $"the TLS handshake failed ({reason.TrimEnd('.')}); {hint}";
    }

    /// <summary>The hint for an <c>http://</c> call whose server never completed the HTTP/2 handshake (a TLS listener); otherwise null.</summary>
    public static string? PlainTextHint(string detail, Exception? debug, Uri? endpoint)
    {
        if (endpoint?.Scheme != Uri.UriSchemeHttp)
        {
            return null;
        }

        var mentioned = detail.Contains(Http2HandshakeIncomplete, StringComparison.Ordinal);
        for (var current = debug; !mentioned && current is not null; current = current.InnerException)
        {
            mentioned = current.Message.Contains(Http2HandshakeIncomplete, StringComparison.Ordinal);
        }

        return mentioned
            ? "if the server has a certificate (Chroma:Certificate) it speaks only TLS: use https:// (with --trusted-root for a self-signed or private-CA certificate)"
            : null;
    }
}
