using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace Chroma.Server.Hosting.Internal;

/// <summary>
/// Binds and at once releases a socket on each address the server will listen on, before the store is opened and the
/// indexes are built: a taken port or an address this machine does not have then fails the start in milliseconds, not
/// after the whole database was read. Kestrel still binds for real afterwards (and its failure is classified the same).
/// </summary>
internal static class ListenAddressCheck
{
    /// <summary>Throws an <see cref="IOException"/> shaped like Kestrel's ("Failed to bind to address ...") when one cannot be bound.</summary>
    public static void ThrowIfUnavailable(ChromaServerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var address = options.Host switch
        {
            "*" => IPAddress.Any,
            _ when string.Equals(options.Host, "localhost", StringComparison.OrdinalIgnoreCase) => IPAddress.Loopback,
            _ => IPAddress.Parse(options.Host),
        };
        Probe(address, options.Port);
        var webPort = options.Web.ResolvePort(options.Port);
        if (options.Web.Enabled && webPort != options.Port)
        {
            Probe(address, webPort);
        }
    }

    private static void Probe(IPAddress address, int port)
    {
        using var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            socket.Bind(new IPEndPoint(address, port));
        }
        catch (SocketException ex) when (ex.SocketErrorCode is SocketError.AddressAlreadyInUse or SocketError.AddressNotAvailable or SocketError.AccessDenied)
        {
            var shown = address.AddressFamily == AddressFamily.InterNetworkV6 ? $"[{address}]" : address.ToString();
            throw new IOException(string.Create(CultureInfo.InvariantCulture, $"Failed to bind to address http://{shown}:{port}: {ex.Message}"), ex);
        }
    }
}
