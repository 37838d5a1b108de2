using System.Net.Http;
using Grpc.Core;

namespace Chroma.Transport;

/// <summary>
/// Recognises a call refused because the endpoint speaks HTTP/1.1 only (a web port, such as Studio's, instead of the
/// gRPC port): the server resets the HTTP/2 stream with HTTP_1_1_REQUIRED (0xd). The status is Internal, which is
/// otherwise transient, but no retry can fix the address.
/// </summary>
internal static class Http11OnlyEndpoint
{
    private const long Http11RequiredErrorCode = 0xd;
    private const string Http11RequiredName = "HTTP_1_1_REQUIRED";

    /// <summary>Whether <paramref name="exception"/> says the endpoint answered HTTP/1.1 only.</summary>
    public static bool IsCause(RpcException exception) =>
        Mentions(exception.Status.DebugException)
        || Mentions(exception.InnerException)
        || exception.Status.Detail.Contains(Http11RequiredName, StringComparison.Ordinal);

    /// <summary>What to tell the user, naming <paramref name="endpoint"/> when known.</summary>
    public static string Describe(Uri? endpoint) =>
        $"the endpoint {(endpoint is null ? "in use" : endpoint.ToString())} answers HTTP/1.1 only; Chroma's gRPC endpoint speaks HTTP/2 (is this Studio's web port?)";

    /// <summary>The same failure with <see cref="Describe"/> as its detail (the transport's exception kept as debug exception).</summary>
    public static RpcException Explain(RpcException exception, Uri? endpoint) =>
        new(new Status(exception.StatusCode, Describe(endpoint), exception.Status.DebugException ?? exception), exception.Trailers);

    private static bool Mentions(Exception? exception)
    {
        for (var current = exception; current is not null; current = current.InnerException)
        {
            if (current is HttpProtocolException { ErrorCode: Http11RequiredErrorCode }
                || current.Message.Contains(Http11RequiredName, StringComparison.Ordinal))
            {
                return true;
            }
        }

        return false;
    }
}
