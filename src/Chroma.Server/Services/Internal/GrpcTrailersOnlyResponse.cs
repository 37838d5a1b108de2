using System.Globalization;
using System.Text;
using Grpc.Core;

namespace Chroma.Server.Services.Internal;

/// <summary>
/// Answers a gRPC call from middleware, before the call's message is read: a trailers-only response (HTTP 200,
/// <c>application/grpc</c>, <c>grpc-status</c> and <c>grpc-message</c> in the one headers frame, which ends the stream),
/// as gRPC itself answers a call refused at once. The unread request body is not read: Kestrel resets the stream.
/// </summary>
internal static class GrpcTrailersOnlyResponse
{
    /// <summary>
    /// Writes <paramref name="status"/> and ends the response; <paramref name="retryAfter"/>, when given, goes out as
    /// <c>grpc-retry-pushback-ms</c> (what gRPC's retry policies wait for).
    /// </summary>
    public static Task WriteAsync(HttpContext context, Status status, TimeSpan? retryAfter = null)
    {
        ArgumentNullException.ThrowIfNull(context);
        var response = context.Response;
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = "application/grpc";
        response.Headers["grpc-status"] = ((int)status.StatusCode).ToString(CultureInfo.InvariantCulture);
        if (!string.IsNullOrEmpty(status.Detail))
        {
            response.Headers["grpc-message"] = PercentEncode(status.Detail);
        }

        if (retryAfter is { } wait)
        {
            response.Headers["grpc-retry-pushback-ms"] = ((long)Math.Ceiling(wait.TotalMilliseconds)).ToString(CultureInfo.InvariantCulture);
        }

        return response.CompleteAsync();
    }

    // gRPC's encoding of grpc-message: UTF-8, with '%' and bytes outside printable ASCII as %XX.
    private static string PercentEncode(string text)
    {
        var bytes = Encoding.UTF8.GetBytes(text);
        var encoded = new StringBuilder(bytes.Length);
        foreach (var b in bytes)
        {
            if (b is >= 0x20 and <= 0x7E && b != (byte)'%')
            {
                encoded.Append((char)b);
            }
            else
            {
                encoded.Append('%').Append(b.ToString("X2", CultureInfo.InvariantCulture));
            }
        }

        return encoded.ToString();
    }
}
