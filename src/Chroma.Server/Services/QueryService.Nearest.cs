using Chroma.Protocol.V1;
using Chroma.Server.Services.Internal;
using Chroma.Server.Storage;
using Chroma.Server.Validation;
using Google.Protobuf;
using Grpc.Core;

namespace Chroma.Server.Services;

/// <summary>
/// FindNearest: squared-L2 neighbours among live records, by vector or by a stored record, from the set's
/// index (exact below <c>IndexExactSearchThreshold</c> records, HNSW above); sees every acknowledged write.
/// </summary>
internal sealed partial class QueryService
{
    /// <inheritdoc />
    public override async Task<FindNearestResponse> FindNearest(FindNearestRequest request, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(context);
        var set = QueryArguments.RequireSet(_store, request.SetId);
        if (request.K < 1 || request.K > QueryArguments.MaxNeighbors)
        {
            throw ValidationError.Invalid($"k: must be between 1 and {QueryArguments.MaxNeighbors}, got {request.K}").ToRpcException();
        }

        string? dataset = null;
        if (request.Dataset.Length > 0)
        {
            QueryArguments.ThrowIfInvalid(DatasetNameValidator.Validate(request.Dataset, "dataset"));
            dataset = request.Dataset;
        }

        var query = QueryVector(set, request);
        var neighbors = await _indexes.SearchAsync(set, query, request.K, dataset, context.CancellationToken).ConfigureAwait(false);
        var records = _store.GetRecordsBySequence(set, [.. neighbors.Select(n => n.Sequence)], request.IncludeEmbeddings)
            .ToDictionary(r => r.Sequence);

        var response = new FindNearestResponse();
        foreach (var neighbor in neighbors)
        {
            // A record deleted between the search and the read is simply left out.
            if (records.TryGetValue(neighbor.Sequence, out var record))
            {
                response.Neighbors.Add(new Neighbor { Record = record, Distance = neighbor.Distance });
            }
        }

        return response;
    }

    private float[] QueryVector(StoredEmbeddingSet set, FindNearestRequest request)
    {
        switch (request.QueryCase)
        {
            case FindNearestRequest.QueryOneofCase.Embedding:
                QueryArguments.ThrowIfInvalid(EmbeddingValidator.Validate(UnsafeCollectionOperations.AsSpan(request.Embedding.Values), set.Dimension, "embedding.values"));
                return [.. request.Embedding.Values];

            case FindNearestRequest.QueryOneofCase.RecordId:
                var id = QueryArguments.RecordIds([request.RecordId], 1, "record_id")[0];
                var stored = _store.GetRecordsByIds(set, [id], includeEmbeddings: true);
                return stored.Count == 1
                    ? [.. stored[0].Record.Embedding]
                    : throw new RpcException(new Status(StatusCode.NotFound, $"record_id: record {id} not found in embedding set '{set.SetId}'"));

            default:
                throw ValidationError.Invalid("query: set either record_id or embedding").ToRpcException();
        }
    }
}
