using Chroma.Protocol.V1;
using Chroma.Transport.Internal;
using Grpc.Core;

namespace Chroma.Transport;

/// <summary>
/// Opens <c>Ingest.Log</c> streams with the client's headers. With several endpoints each stream is opened on the
/// endpoint in use, and a stream that failed moves the client on to the next endpoint, where the sender re-sends every
/// unacknowledged batch with the same ids.
/// </summary>
internal sealed class GrpcIngestSessionFactory : IIngestSessionFactory
{
    private readonly CallInvoker _invoker;
    private readonly FailoverCallInvoker? _failover;
    private readonly Metadata? _headers;
    private readonly IReadOnlyList<Uri> _endpoints;

    public GrpcIngestSessionFactory(CallInvoker invoker, Metadata? headers, IReadOnlyList<Uri>? endpoints = null)
    {
        _invoker = invoker;
        _failover = invoker as FailoverCallInvoker;
        _headers = headers;
        _endpoints = endpoints ?? [];
    }

    public IIngestSession Open(CancellationToken cancellationToken)
    {
        var endpoint = _failover?.Rotation.Current ?? 0;
        var client = new Ingest.IngestClient(_failover?.For(endpoint) ?? _invoker);
        var endpointUri = endpoint < _endpoints.Count ? _endpoints[endpoint] : null;
        return new GrpcIngestSession(client.Log(new CallOptions(headers: _headers, cancellationToken: cancellationToken)), endpoint, endpointUri);
    }

    public void ReportFailure(IIngestSession session)
    {
        if (_failover is not null && session is GrpcIngestSession grpc)
        {
            _failover.ReportFailure(grpc.Endpoint);
        }
    }
}
