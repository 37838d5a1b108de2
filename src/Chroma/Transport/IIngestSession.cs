using Chroma.Protocol.V1;

namespace Chroma.Transport;

/// <summary>One open ingest stream. Throws <see cref="Grpc.Core.RpcException"/> for every failure.</summary>
internal interface IIngestSession : IAsyncDisposable
{
    Task WriteAsync(LogBatch batch, CancellationToken cancellationToken);

    /// <summary>The next acknowledgement, or <see langword="null"/> when the server ended the stream.</summary>
    Task<LogAck?> ReadAckAsync(CancellationToken cancellationToken);
}

/// <summary>Opens ingest streams; the seam that lets the sender be tested without a network.</summary>
internal interface IIngestSessionFactory
{
    IIngestSession Open(CancellationToken cancellationToken);

    /// <summary>
    /// <paramref name="session"/> failed (transport error, ended stream, no ack in time): a factory with several
    /// endpoints opens the next stream on another one. The default does nothing.
    /// </summary>
    void ReportFailure(IIngestSession session)
    {
    }
}
