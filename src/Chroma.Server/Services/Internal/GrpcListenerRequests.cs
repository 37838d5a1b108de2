using Grpc.AspNetCore.Server;

namespace Chroma.Server.Services.Internal;

/// <summary>
/// What middleware needs to know about a request before gRPC reads it: whether it came to the gRPC port, and which
/// method its route chose (the routing middleware runs first in the server's pipeline).
/// </summary>
internal static class GrpcListenerRequests
{
    /// <summary>
    /// Whether <paramref name="request"/> came to the gRPC port: it speaks HTTP/2 only, Studio's port HTTP/1.1 only
    /// (<c>StudioAccessFilter</c> answers only the other port).
    /// </summary>
    public static bool IsGrpcPort(HttpRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        return !HttpProtocol.IsHttp11(request.Protocol) && !HttpProtocol.IsHttp10(request.Protocol);
    }

    /// <summary>The gRPC method the request was routed to, or null (an unknown service or method, or no gRPC endpoint).</summary>
    public static GrpcMethodMetadata? Method(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        return context.GetEndpoint()?.Metadata.GetMetadata<GrpcMethodMetadata>();
    }
}
