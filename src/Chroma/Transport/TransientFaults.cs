using Grpc.Core;

namespace Chroma.Transport;

/// <summary>Which failures are worth retrying: the server or network may recover from them.</summary>
internal static class TransientFaults
{
    public static bool IsTransient(StatusCode code) => code switch
    {
        StatusCode.Unavailable or StatusCode.DeadlineExceeded or StatusCode.Aborted or StatusCode.ResourceExhausted
            or StatusCode.Internal or StatusCode.Unknown or StatusCode.Cancelled => true,
        _ => false,
    };

    /// <summary>
    /// Whether <paramref name="exception"/> is worth retrying: a transient status, unless the endpoint answered
    /// HTTP/1.1 only (Internal, but the address is wrong: no retry helps).
    /// </summary>
    public static bool IsTransient(Exception exception) =>
        exception is RpcException rpc && IsTransient(rpc.StatusCode) && !Http11OnlyEndpoint.IsCause(rpc);
}
