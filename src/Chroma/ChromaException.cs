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

    internal static ChromaException From(RpcException ex) =>
        new(ex.StatusCode, string.IsNullOrEmpty(ex.Status.Detail) ? $"Chroma server answered {ex.StatusCode}." : ex.Status.Detail, ex);
}
