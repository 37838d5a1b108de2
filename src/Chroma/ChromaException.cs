using Grpc.Core;

namespace Chroma;

/// <summary>A query the server refused or could not answer. <see cref="StatusCode"/> says why.</summary>
public sealed class ChromaException : Exception
{
    /// <summary>Creates the exception.</summary>
    public ChromaException(StatusCode statusCode, string message, Exception? innerException = null)
        : base(message, innerException)
    {
        StatusCode = statusCode;
    }

    /// <summary>Creates the exception with <see cref="Grpc.Core.StatusCode.Unknown"/>.</summary>
    public ChromaException()
        : this(StatusCode.Unknown, "The Chroma call failed.")
    {
    }

    /// <summary>Creates the exception with <see cref="Grpc.Core.StatusCode.Unknown"/>.</summary>
    public ChromaException(string message)
        : this(StatusCode.Unknown, message)
    {
    }

    /// <summary>Creates the exception with <see cref="Grpc.Core.StatusCode.Unknown"/>.</summary>
    public ChromaException(string message, Exception innerException)
        : this(StatusCode.Unknown, message, innerException)
    {
    }

    /// <summary>The gRPC status the server answered (NotFound, InvalidArgument, Unauthenticated, Unavailable...).</summary>
    public StatusCode StatusCode { get; }

    /// <summary>
    /// The exception for a failed call. A call that never reached a server (the transport's own failure, which carries
    /// a debug exception: connection refused, an unknown host, a failed TLS handshake) names <paramref name="endpoint"/>
    /// and the cause; a status the server sent keeps the server's words.
    /// </summary>
    internal static ChromaException From(RpcException ex, Uri? endpoint = null)
    {
        var detail = string.IsNullOrEmpty(ex.Status.Detail) ? $"Chroma server answered {ex.StatusCode}." : ex.Status.Detail;
        if (Transport.Http11OnlyEndpoint.IsCause(ex))
        {
            // Internal, as the transport reports it; the message says what to change (retrying cannot help).
            return new(ex.StatusCode, $"Chroma server call failed: {Transport.Http11OnlyEndpoint.Describe(endpoint)}.", ex);
        }

        if (Transport.TlsHandshake.Failed(ex))
        {
            // Internal, as the transport reports it, but the call never reached the server: say why and what to change
            // (probe Q, Q6: "Error starting gRPC call" alone did not say to trust the root).
            var cause = Transport.TlsHandshake.Cause(ex.Status.DebugException)?.Message;
            var where = endpoint is null ? "Chroma server" : $"Chroma server at {endpoint}";
            return new(ex.StatusCode, $"{where} is not reachable: {Transport.TlsHandshake.Hint(Transport.TlsHandshake.Reason(ex))} ({cause ?? detail})", ex);
        }

        if (ex.StatusCode == StatusCode.Unavailable && endpoint is not null && ex.Status.DebugException is { } transport)
        {
            detail = $"Chroma server at {endpoint} is not reachable: {transport.GetBaseException().Message} ({detail})";
            if (endpoint.Scheme == Uri.UriSchemeHttp && Transport.TlsHandshake.PlainTextToTls(ex))
            {
                detail += $"; {Transport.TlsHandshake.PlainTextHint}";
            }
        }

        return new(ex.StatusCode, detail, ex);
    }
}
