using System.Security.Authentication;
using Grpc.Core;

namespace Chroma.Transport;

/// <summary>
/// Recognises the two ways TLS and the endpoint's scheme disagree, and says what to change: a failed TLS handshake (the
/// client does not trust the server's certificate, the certificate does not name the host, or an <c>https://</c>
/// endpoint met a server without TLS), which Grpc.Net.Client reports as Internal although no request reached the
/// server; and an <c>http://</c> endpoint on a server with a certificate, whose TLS listener never completes the HTTP/2
/// handshake (Unavailable).
/// </summary>
internal static class TlsHandshake
{
    private const string HandshakeFailed = "SSL connection could not be established";
    private const string Http2HandshakeIncomplete = "did not complete the HTTP/2 handshake";

    /// <summary>Whether <paramref name="exception"/> is a call that failed in the TLS handshake, before any request was sent.</summary>
    public static bool Failed(RpcException exception) => Failed(exception.Status.Detail, exception.Status.DebugException);

    /// <summary>Whether a call whose status detail is <paramref name="detail"/> and transport exception <paramref name="debug"/> failed in the TLS handshake.</summary>
    public static bool Failed(string detail, Exception? debug) => Failed(detail) || Cause(debug) is not null;

    /// <summary>Whether <paramref name="message"/> says the TLS handshake failed.</summary>
    public static bool Failed(string message) => message.Contains(HandshakeFailed, StringComparison.Ordinal);

    /// <summary>The TLS error inside <paramref name="exception"/>'s chain (the handshake's own reason), or null.</summary>
    public static Exception? Cause(Exception? exception)
    {
        Exception? handshake = null;
        for (var current = exception; current is not null; current = current.InnerException)
        {
            if (current is AuthenticationException)
            {
                return current;
            }

            if (handshake is null && current.Message.Contains(HandshakeFailed, StringComparison.Ordinal))
            {
                handshake = current;
            }
        }

        // The handshake failed below TLS (the peer closed, or sent something that is not TLS): the innermost cause says how.
        return handshake is null ? null : handshake.InnerException?.GetBaseException() ?? handshake;
    }

    /// <summary>
    /// What to change after a failed handshake, by its reason (<paramref name="reason"/>: the detail and the
    /// transport's messages): trust the root, use a host name the certificate names, or use <c>http://</c>.
    /// </summary>
    public static string Hint(string reason) =>
        reason.Contains("UntrustedRoot", StringComparison.Ordinal) || reason.Contains("PartialChain", StringComparison.Ordinal)
            ? "the TLS handshake failed: this client does not trust the server's certificate; for a self-signed or private-CA certificate set ChromaClientOptions.TrustedRootCertificate to the root that issued it (for a self-signed one, the certificate itself)"
            : reason.Contains("NotTimeValid", StringComparison.Ordinal)
                ? "the TLS handshake failed: the server's certificate is outside its validity period (expired, or not valid yet); the server's operator must renew Chroma:Certificate (or a clock is wrong)"
            : reason.Contains("RemoteCertificateNameMismatch", StringComparison.Ordinal)
                ? "the TLS handshake failed: the server's certificate does not name the endpoint's host; use a host name (or IP address) the certificate lists"
                : "the TLS handshake failed: an https:// endpoint needs a server with a certificate, Chroma:Certificate, that this client trusts (the operating system's roots, or ChromaClientOptions.TrustedRootCertificate); a server without one takes http://";

    /// <summary>The reason of a failed call as text to match <see cref="Hint"/> against: its detail and every message of its chain.</summary>
    public static string Reason(RpcException exception)
    {
        var text = new System.Text.StringBuilder(exception.Status.Detail);
        for (var current = exception.Status.DebugException; current is not null; current = current.InnerException)
        {
            text.Append(' ').Append(current.Message);
        }

        return text.ToString();
    }

    /// <summary>Whether <paramref name="exception"/> is a plain-text (<c>http://</c>) call whose server never completed the HTTP/2 handshake, as a TLS listener does.</summary>
    public static bool PlainTextToTls(RpcException exception) =>
        exception.StatusCode == StatusCode.Unavailable && NoHttp2Handshake(exception.Status.Detail, exception.Status.DebugException);

    /// <summary>Whether the status detail <paramref name="detail"/> or the transport exception <paramref name="debug"/> says the server never completed the HTTP/2 handshake.</summary>
    public static bool NoHttp2Handshake(string detail, Exception? debug)
    {
        for (var current = debug; current is not null; current = current.InnerException)
        {
            if (current.Message.Contains(Http2HandshakeIncomplete, StringComparison.Ordinal))
            {
                return true;
            }
        }

        return detail.Contains(Http2HandshakeIncomplete, StringComparison.Ordinal);
    }

    /// <summary>What to check after <see cref="PlainTextToTls"/>.</summary>
    public const string PlainTextHint = "if the server has a certificate (Chroma:Certificate) it speaks only TLS: use https://";
}
