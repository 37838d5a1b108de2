using Chroma.Protocol.V1;
using Grpc.Core;

namespace Chroma.Transport;

/// <summary>Opens <c>Ingest.Log</c> streams with the client's headers.</summary>
internal sealed class GrpcIngestSessionFactory : IIngestSessionFactory
{
    private readonly Ingest.IngestClient _client;
    private readonly Metadata? _headers;

    public GrpcIngestSessionFactory(Ingest.IngestClient client, Metadata? headers)
    {
        _client = client;
        _headers = headers;
    }

    public IIngestSession Open(CancellationToken cancellationToken) =>
        new GrpcIngestSession(_client.Log(new CallOptions(headers: _headers, cancellationToken: cancellationToken)));
}
