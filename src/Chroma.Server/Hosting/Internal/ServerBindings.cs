using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace Chroma.Server.Hosting.Internal;

/// <summary>
/// The Kestrel listeners of the gRPC port and of Studio's port. Kestrel writes the bound endpoint back into a
/// listener's options when it binds, which is how a port asked for as 0 is read after start.
/// </summary>
internal sealed class ServerBindings
{
    private readonly ChromaServerOptions _options;

    /// <summary>Creates the holder for a server with <paramref name="options"/>.</summary>
    public ServerBindings(ChromaServerOptions options) => _options = options;

    /// <summary>Gets or sets the gRPC listener (set when Kestrel reads its configuration).</summary>
    public ListenOptions? Grpc { get; set; }

    /// <summary>Gets or sets Studio's listener, or null when Studio is off.</summary>
    public ListenOptions? Web { get; set; }

    /// <summary>Gets the gRPC port bound.</summary>
    public int GrpcPort => Bound(_options.Port, Grpc)
        ?? throw new InvalidOperationException("The Chroma server started without a gRPC listener.");

    /// <summary>Gets Studio's port bound, or null when Studio is off.</summary>
    public int? WebPort => _options.Web.Enabled ? Bound(_options.Web.ResolvePort(_options.Port), Web) : null;

    private static int? Bound(int configured, ListenOptions? listen) =>
        configured != 0 ? configured : listen?.IPEndPoint?.Port is { } port and not 0 ? port : null;
}
