using System.Net.Security;
using System.Net.Sockets;

namespace Chroma.Server.Cli.Connection;

/// <summary>
/// Asks an endpoint whether it speaks TLS, after an <c>http://</c> call to it failed on the connection. A plain HTTP/2
/// client on a TLS listener fails in one of several ways, depending on which side writes first (the HTTP/2 handshake
/// never completes, the connection is reset, the response ends early, reported as Unavailable or Internal), so the
/// error text alone does not always tell; a TLS handshake with the listener does.
/// </summary>
internal static class TlsListenerProbe
{
    /// <summary>Whether <paramref name="endpoint"/> completes a TLS handshake within <paramref name="timeout"/>; false on any failure.</summary>
    /// <remarks>The certificate is not checked and nothing is sent after the handshake: the answer only names the protocol.</remarks>
    public static async Task<bool> SpeaksTlsAsync(Uri endpoint, TimeSpan timeout)
    {
        using var deadline = new CancellationTokenSource(timeout);
        try
        {
            using var tcp = new TcpClient();
            await tcp.ConnectAsync(endpoint.Host, endpoint.Port, deadline.Token).ConfigureAwait(false);
            await using var tls = new SslStream(tcp.GetStream(), leaveInnerStreamOpen: false);
            var options = new SslClientAuthenticationOptions
            {
                TargetHost = endpoint.Host,
#pragma warning disable CA5359 // Only whether the listener speaks TLS is asked; no request is sent over this connection.
                RemoteCertificateValidationCallback = static (_, _, _, _) => true,
#pragma warning restore CA5359
            };
            await tls.AuthenticateAsClientAsync(options, deadline.Token).ConfigureAwait(false);
            return true;
        }
#pragma warning disable CA1031 // Any failure means "not shown to speak TLS"; the caller reports the original error.
        catch (Exception)
#pragma warning restore CA1031
        {
            return false;
        }
    }
}
