using System.Net;
using Chroma.Server.Hosting;

namespace Chroma.Server.Web.Internal;

/// <summary>
/// DNS rebinding: a page on a name the attacker controls, re-pointed at 127.0.0.1, reaches a Studio on localhost with
/// that name in its <c>Host</c> header. Without an API key (nothing else stands in the way) Studio answers only to IP
/// addresses, <c>localhost</c> (and <c>*.localhost</c>), this machine's name, the configured <c>Chroma:Host</c> and the
/// names in <see cref="WebOptions.AllowedHosts"/> (<c>*</c>: any). With a key the session cookie already belongs to
/// the real origin, so every name is served.
/// </summary>
internal sealed class StudioHosts
{
    private readonly bool _any;
    private readonly HashSet<string> _names = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>Creates the check from the server's settings.</summary>
    public StudioHosts(ChromaServerOptions server, WebOptions web)
    {
        ArgumentNullException.ThrowIfNull(server);
        ArgumentNullException.ThrowIfNull(web);
        var allowed = (web.AllowedHosts ?? string.Empty).Split([';', ',', ' '], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        _any = !string.IsNullOrEmpty(server.ApiKey) || allowed.Contains("*");
        _names.UnionWith(allowed);
        _names.Add("localhost");
        _names.Add(Environment.MachineName);
        if (!string.IsNullOrWhiteSpace(server.Host))
        {
            _names.Add(server.Host);
        }
    }

    /// <summary>Why a request with <paramref name="host"/> is refused, or null when Studio answers to that name.</summary>
    public string? RefusalOf(HostString host)
    {
        if (_any || !host.HasValue)
        {
            return null;
        }

        var name = host.Host.Trim('[', ']');
        if (IPAddress.TryParse(name, out _) || _names.Contains(name) || name.EndsWith(".localhost", StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }

        var shown = name.Length <= 100 ? name : name[..100] + "…";
        return $"Studio does not answer to the host name '{shown}' without an API key (a guard against DNS rebinding): add it to Chroma__Web__AllowedHosts (names separated by ';', or '*' for any), or set Chroma__ApiKey";
    }
}
