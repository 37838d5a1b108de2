using System.Globalization;
using Chroma.Protocol.V1;
using Chroma.Server.Indexing;
using Chroma.Server.Services.Internal;
using Chroma.Server.Storage;
using Chroma.Server.Validation;
using Google.Protobuf;
using Grpc.Core;

namespace Chroma.Server.Services;

/// <summary>
/// FindNearest: neighbours among live records under the set's metric (squared L2 or cosine distance), by vector or by a stored record, from the set's
/// index (exact below <c>Chroma:Indexing:ExactSearchThreshold</c> records, HNSW above); sees every acknowledged write.
/// </summary>
internal sealed partial class QueryService
{
    /// <summary>The widest per-request search breadth.</summary>
    private const int MaxSearchBreadth = 10_000;

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

        if (request.SearchBreadth is < 0 or > MaxSearchBreadth)
        {
            throw ValidationError.Invalid($"search_breadth: must be between 0 (the set's default) and {MaxSearchBreadth}, got {request.SearchBreadth}").ToRpcException();
        }

        var (query, self) = QueryVector(set, request);
        var options = new NearestSearchOptions(request.SearchBreadth, request.Exact);
        var (index, behind) = await _indexes.CaughtUpAsync(set, context.CancellationToken).ConfigureAwait(false);

        // An exact search also scans, from the store, what the index has not taken in yet: it then misses nothing.
        List<VectorNeighbor> tail = [];
        if (behind && request.Exact)
        {
            try
            {
                var indexedThrough = _indexes.IndexedThrough(set);
                tail = UnindexedTailScan.Nearest(
                    _store, set, query, (4 * request.K) + 16, dataset, indexedThrough, _store.ReadLastSequence(set), context.CancellationToken);
                behind = false;
            }
            catch (System.Data.Common.DbException)
            {
                // The store is unreachable: answer from what the index holds, saying it is behind (as a non-exact search).
            }
        }

        var response = new FindNearestResponse { IndexBehind = behind };
        response.Neighbors.AddRange(LiveNeighborSearch.Find(
            request.K,
            depth =>
            {
                var neighbors = tail.Count == 0 ? index.Search(query, depth, dataset, options) : UnindexedTailScan.Merge(index.Search(query, depth, dataset, options), tail, depth);
                return self is { } own && (dataset is null || own.Record.Dataset == dataset)
                    ? SelfFirst.Apply(neighbors, own.Sequence, depth)
                    : neighbors;
            },
            sequences => _store.GetRecordsBySequence(set, sequences, request.IncludeEmbeddings)));
        return response;
    }

    /// <summary>The set's index state for ListSets; null while its index is not loaded.</summary>
    private SetIndexInfo? IndexInfo(StoredEmbeddingSet set)
    {
        if (_indexes.GetStatus(set) is not { } status)
        {
            return null;
        }

        var info = new SetIndexInfo
        {
            Kind = status.Kind switch
            {
                Indexing.SetIndexKind.Exact => Protocol.V1.IndexKind.Exact,
                Indexing.SetIndexKind.Building => Protocol.V1.IndexKind.Building,
                _ => Protocol.V1.IndexKind.Hnsw,
            },
            IndexedCount = status.Count,
            GraphCount = status.GraphCount,
            SearchBreadth = status.SearchBreadth,
        };
        if (status.LastBuildFailure is { } failure)
        {
            info.BuildFailure = failure.Message;
            info.BuildFailedUnixMs = failure.UnixMs;
        }

        if (status.Estimate is { } estimate)
        {
            info.EstimatedRecallAt10 = estimate.RecallAt10;
            info.RecallSampleSize = estimate.SampleSize;
            info.RecallEstimatedAtCount = estimate.AtCount;
        }

        return info;
    }

    /// <summary>The query vector, and the stored record it came from (for a record_id query).</summary>
    private (float[] Vector, StoredRecord? Self) QueryVector(StoredEmbeddingSet set, FindNearestRequest request)
    {
        switch (request.QueryCase)
        {
            case FindNearestRequest.QueryOneofCase.Embedding:
                var values = UnsafeCollectionOperations.AsSpan(request.Embedding.Values);
                QueryArguments.ThrowIfInvalid(EmbeddingValidator.Validate(values, set.Dimension, "embedding.values"));
                if (set.Metric == DistanceMetric.Cosine && !UnitVector.HasDirection(values))
                {
                    throw ValidationError.Invalid($"embedding.values: is all zeros, which has no direction under the cosine metric of embedding set '{set.SetId}'").ToRpcException();
                }

                return ([.. request.Embedding.Values], null);

            case FindNearestRequest.QueryOneofCase.RecordId:
                var id = QueryArguments.RecordId(request.RecordId, "record_id");
                var stored = _store.GetRecordsByIds(set, [id], includeEmbeddings: true);
                if (stored.Count != 1)
                {
                    throw new RpcException(new Status(StatusCode.NotFound, $"record_id: record {id} not found in embedding set '{set.SetId}'"));
                }

                float[] embedding = [.. stored[0].Record.Embedding];
                if (FiniteValues.IndexOfOutOfRange(embedding) is var bad and >= 0)
                {
                    // Stored by an older server: every distance from it would overflow to infinity.
                    throw new RpcException(new Status(StatusCode.FailedPrecondition, string.Create(CultureInfo.InvariantCulture,
                        $"record_id: record {id} of embedding set '{set.SetId}' has embedding[{bad}] = {embedding[bad]}, of 2^50 or more in magnitude (stored before such values were refused), so no distance from it is finite; delete it and log it again with smaller values")));
                }

                if (set.Metric == DistanceMetric.Cosine && !UnitVector.HasDirection(embedding))
                {
                    // Stored before the check, or by a provider without it: the index left it out (and said so).
                    throw new RpcException(new Status(StatusCode.FailedPrecondition,
                        $"record_id: record {id} of embedding set '{set.SetId}' has an all-zero embedding, which has no direction under the cosine metric; delete it and log it again with a non-zero embedding"));
                }

                return (embedding, stored[0]);

            default:
                throw ValidationError.Invalid("query: set either record_id or embedding").ToRpcException();
        }
    }
}
