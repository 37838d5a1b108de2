using Chroma.Diagnostics;
using Chroma.Internal;
using Chroma.Protocol.V1;
using Grpc.Core;

namespace Chroma;

public sealed partial class ChromaClient
{
    /// <summary>
    /// Lists every embedding set with its record counts per dataset, in set id order (ordinal). Asks for 1,000 sets a
    /// call, so any number of sets stays within a gRPC message.
    /// </summary>
    /// <exception cref="ChromaException">The server refused or could not be reached.</exception>
    public async Task<IReadOnlyList<EmbeddingSetInfo>> ListSetsAsync(CancellationToken cancellationToken = default)
    {
        var sets = new List<EmbeddingSetInfo>();
        var token = string.Empty;
        do
        {
            var request = new ListSetsRequest { PageSize = ListSetsPageSize, PageToken = token };
            var response = await CallAsync("ListSets", null, o => _query.ListSetsAsync(request, o), cancellationToken).ConfigureAwait(false);
            sets.AddRange(response.Sets.Select(ToInfo));
            token = response.NextPageToken;
        }
        while (token.Length > 0);

        return sets;
    }

    /// <summary>Reads one page of a set's records.</summary>
    /// <exception cref="ChromaException">NotFound for an unknown set or id; InvalidArgument for a bad page size or token.</exception>
    public async Task<RecordPage> GetRecordsAsync(string setId, RecordQuery? query = null, CancellationToken cancellationToken = default)
    {
        query ??= new RecordQuery();
        var request = new GetRecordsRequest
        {
            SetId = setId ?? string.Empty,
            Filter = ToFilter(query.Dataset, query.Metadata),
            PageSize = query.PageSize,
            PageToken = query.PageToken ?? string.Empty,
            IncludeEmbeddings = query.IncludeEmbeddings,
        };
        if (query.Ids is not null)
        {
            request.Ids.AddRange(query.Ids);
        }

        var response = await CallAsync("GetRecords", setId, o => _query.GetRecordsAsync(request, o), cancellationToken).ConfigureAwait(false);
        return new RecordPage
        {
            Records = [.. response.Records.Select(r => new ChromaRecord(r))],
            NextPageToken = string.IsNullOrEmpty(response.NextPageToken) ? null : response.NextPageToken,
        };
    }

    /// <summary>Counts a set's records, optionally in one dataset and with matching metadata.</summary>
    /// <exception cref="ChromaException">NotFound for an unknown set.</exception>
    public async Task<long> CountAsync(
        string setId,
        string? dataset = null,
        IReadOnlyDictionary<string, string>? metadata = null,
        CancellationToken cancellationToken = default)
    {
        var request = new CountRecordsRequest { SetId = setId ?? string.Empty, Filter = ToFilter(dataset, metadata) };
        var response = await CallAsync("CountRecords", setId, o => _query.CountRecordsAsync(request, o), cancellationToken).ConfigureAwait(false);
        return response.Count;
    }

    /// <summary>
    /// Finds the <paramref name="k"/> records nearest to <paramref name="embedding"/>, closest first (a
    /// <see cref="NearestNeighbors"/>: whether the set's index lacked records acknowledged before the call).
    /// </summary>
    /// <param name="setId">The set to search.</param>
    /// <param name="embedding">The query vector (the set's dimension, finite values).</param>
    /// <param name="k">How many neighbours, 1-1000.</param>
    /// <param name="dataset">Only neighbours from this dataset (e.g. <see cref="ChromaDatasets.Training"/>), or all.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <exception cref="ChromaException">NotFound for an unknown set; InvalidArgument for a bad vector or k.</exception>
    public Task<IReadOnlyList<ChromaNeighbor>> FindNearestAsync(
        string setId,
        ReadOnlyMemory<float> embedding,
        int k = 10,
        string? dataset = null,
        CancellationToken cancellationToken = default)
    {
        var vector = new Vector();
        RepeatedFields.Append(vector.Values, embedding.Span);
        return FindNearestAsync(new FindNearestRequest { SetId = setId ?? string.Empty, Embedding = vector, K = k, Dataset = dataset ?? string.Empty }, cancellationToken);
    }

    /// <summary>Finds the records nearest to <paramref name="embedding"/>, closest first, with the breadth or exactness <paramref name="query"/> asks for.</summary>
    /// <param name="setId">The set to search.</param>
    /// <param name="embedding">The query vector (the set's dimension, finite values).</param>
    /// <param name="query">How many, from which dataset, how broad or exact.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <exception cref="ChromaException">NotFound for an unknown set; InvalidArgument for a bad vector, k or breadth.</exception>
    public Task<IReadOnlyList<ChromaNeighbor>> FindNearestAsync(
        string setId,
        ReadOnlyMemory<float> embedding,
        NearestQuery query,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        var vector = new Vector();
        RepeatedFields.Append(vector.Values, embedding.Span);
        return FindNearestAsync(ToRequest(setId, query, r => r.Embedding = vector), cancellationToken);
    }

    /// <summary>Finds the <paramref name="k"/> records nearest to a stored record (the record itself included).</summary>
    /// <exception cref="ChromaException">NotFound for an unknown set or record.</exception>
    public Task<IReadOnlyList<ChromaNeighbor>> FindNearestToRecordAsync(
        string setId,
        string recordId,
        int k = 10,
        string? dataset = null,
        CancellationToken cancellationToken = default) =>
        FindNearestAsync(new FindNearestRequest { SetId = setId ?? string.Empty, RecordId = recordId ?? string.Empty, K = k, Dataset = dataset ?? string.Empty }, cancellationToken);

    /// <summary>Finds the records nearest to a stored record (the record itself first), as <paramref name="query"/> asks.</summary>
    /// <param name="setId">The set to search.</param>
    /// <param name="recordId">The stored record whose embedding is the query.</param>
    /// <param name="query">How many, from which dataset, how broad or exact.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <exception cref="ChromaException">NotFound for an unknown set or record; InvalidArgument for a bad k or breadth.</exception>
    public Task<IReadOnlyList<ChromaNeighbor>> FindNearestToRecordAsync(
        string setId,
        string recordId,
        NearestQuery query,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        return FindNearestAsync(ToRequest(setId, query, r => r.RecordId = recordId ?? string.Empty), cancellationToken);
    }

    /// <summary>Deletes records; returns how many existed.</summary>
    /// <exception cref="ChromaException">NotFound for an unknown set.</exception>
    public async Task<long> DeleteAsync(string setId, IEnumerable<string> ids, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(ids);
        var request = new DeleteRecordsRequest { SetId = setId ?? string.Empty };
        request.Ids.AddRange(ids);
        var response = await CallAsync("DeleteRecords", setId, o => _query.DeleteRecordsAsync(request, o), cancellationToken).ConfigureAwait(false);
        return response.Deleted;
    }

    /// <summary>Merges <paramref name="tags"/> into each record's metadata; returns how many records changed.</summary>
    /// <exception cref="ChromaException">NotFound for an unknown set; InvalidArgument for tags over the limits.</exception>
    public async Task<long> TagAsync(
        string setId,
        IEnumerable<string> ids,
        IReadOnlyDictionary<string, string> tags,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(ids);
        ArgumentNullException.ThrowIfNull(tags);
        var request = new TagRecordsRequest { SetId = setId ?? string.Empty };
        request.Ids.AddRange(ids);
        request.Tags.Add(tags.ToDictionary(t => t.Key, t => t.Value, StringComparer.Ordinal));
        var response = await CallAsync("TagRecords", setId, o => _query.TagRecordsAsync(request, o), cancellationToken).ConfigureAwait(false);
        return response.Updated;
    }

    private async Task<IReadOnlyList<ChromaNeighbor>> FindNearestAsync(FindNearestRequest request, CancellationToken cancellationToken)
    {
        var response = await CallAsync("FindNearest", request.SetId, o => _query.FindNearestAsync(request, o), cancellationToken).ConfigureAwait(false);
        return new NearestNeighbors([.. response.Neighbors.Select(n => new ChromaNeighbor { Record = new ChromaRecord(n.Record), Distance = n.Distance })], response.IndexBehind);
    }

    private static FindNearestRequest ToRequest(string setId, NearestQuery query, Action<FindNearestRequest> setQuery)
    {
        var request = new FindNearestRequest
        {
            SetId = setId ?? string.Empty,
            K = query.K,
            Dataset = query.Dataset ?? string.Empty,
            SearchBreadth = query.SearchBreadth,
            Exact = query.Exact,
        };
        setQuery(request);
        return request;
    }

    // A call whose connection ended before the HTTP/2 handshake is tried on a new connection up to this many times in all.
    private const int HandshakeAttempts = 3;
    private const int ListSetsPageSize = 1000;
    private static readonly TimeSpan HandshakeRetryDelay = TimeSpan.FromMilliseconds(50);

    private Task<TResponse> CallAsync<TResponse>(
        string method, string? setId, Func<CallOptions, AsyncUnaryCall<TResponse>> call, CancellationToken cancellationToken) =>
        CallAsync(method, setId, call, TimeSpan.Zero, cancellationToken);

    // serverWait: how long the server may legitimately hold the call before answering (added to the deadline).
    private async Task<TResponse> CallAsync<TResponse>(
        string method, string? setId, Func<CallOptions, AsyncUnaryCall<TResponse>> call, TimeSpan serverWait, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        using var suppression = CaptureSuppression.Begin();
        using var activity = ChromaActivitySource.StartQuery(method, Endpoint, setId);
        // A deadline is an instant the transport compares with the machine's clock, not the injected one (a fake clock
        // for tests starts in 2000, which made every query's deadline long past).
        var options = new CallOptions(_headers, DateTime.UtcNow + _options.RequestTimeout + serverWait, cancellationToken);
        try
        {
            for (var attempt = 1; ; attempt++)
            {
                try
                {
                    return await call(options).ResponseAsync.ConfigureAwait(false);
                }
                catch (RpcException ex) when (attempt < HandshakeAttempts && !cancellationToken.IsCancellationRequested
                    && Transport.TlsHandshake.NoHttp2Handshake(ex.Status.Detail, ex.Status.DebugException))
                {
                    // The connection ended before the HTTP/2 handshake, so the server saw no request and a new
                    // connection is safe to try: an HTTP/1.1-only endpoint (Studio's port) answers HTTP_1_1_REQUIRED
                    // on one of them, which names the mistake, where this error, which side wrote first, did not.
                    await Task.Delay(HandshakeRetryDelay, _time, cancellationToken).ConfigureAwait(false);
                }
            }
        }
        catch (RpcException ex) when (ex.StatusCode == StatusCode.Cancelled && cancellationToken.IsCancellationRequested)
        {
            // The caller's token: surface it as .NET does everywhere else, not as a transport status.
            throw new OperationCanceledException($"{method} was cancelled.", ex, cancellationToken);
        }
        catch (RpcException ex)
        {
            activity?.SetStatus(System.Diagnostics.ActivityStatusCode.Error, ex.StatusCode.ToString());
            throw ChromaException.From(ex, Endpoint);
        }
    }

    private static RecordFilter ToFilter(string? dataset, IReadOnlyDictionary<string, string>? metadata)
    {
        var filter = new RecordFilter { Dataset = dataset ?? string.Empty };
        if (metadata is not null)
        {
            foreach (var (key, value) in metadata)
            {
                filter.Metadata[key] = value;
            }
        }

        return filter;
    }

    private static EmbeddingSetInfo ToInfo(Protocol.V1.EmbeddingSetInfo info) => new()
    {
        SetId = info.SetId,
        Descriptor = new EmbeddingSetDescriptor(info.Descriptor_.Model, info.Descriptor_.ModelVersion, info.Descriptor_.Layer, info.Descriptor_.Dimension)
        {
            // Field 10 is the set's metric; servers from before metrics send neither it nor descriptor.metric (their sets are L2).
            Metric = info.Metric != Protocol.V1.DistanceMetric.Unspecified ? (DistanceMetric)(int)info.Metric
                : info.Descriptor_.Metric != Protocol.V1.DistanceMetric.Unspecified ? (DistanceMetric)(int)info.Descriptor_.Metric
                : DistanceMetric.L2,
        },
        Datasets = [.. info.Datasets.Select(d => new DatasetCount { Dataset = d.Dataset, Count = d.Count })],
        TotalRecords = info.TotalRecords,
        Created = DateTimeOffset.FromUnixTimeMilliseconds(info.CreatedUnixMs),
        Updated = DateTimeOffset.FromUnixTimeMilliseconds(info.UpdatedUnixMs),
        Drift = info.Drift is null ? null : ToDrift(info.Drift),
        DriftHistory = [.. info.DriftHistory.Select(ToDrift)],
        Index = info.Index is null ? null : ToIndexInfo(info.Index),
        Retention = [.. info.Retention.Select(ToRetention)],
        LastScoringFailure = ScoringFailure.From(info.ScoringFailure),
    };

    private static EmbeddingSetRetention ToRetention(RetentionInfo rule) => new()
    {
        Dataset = rule.Dataset,
        MaxAge = TimeSpan.FromMilliseconds(rule.MaxAgeMs),
        LastRun = rule.LastRunUnixMs == 0 ? null : DateTimeOffset.FromUnixTimeMilliseconds(rule.LastRunUnixMs),
        LastRunDeleted = rule.LastRunDeleted,
        DeletedTotal = rule.DeletedTotal,
    };

    private static EmbeddingSetIndexInfo ToIndexInfo(SetIndexInfo index) => new()
    {
        Kind = (EmbeddingSetIndexKind)(int)index.Kind,
        IndexedCount = index.IndexedCount,
        GraphCount = index.GraphCount,
        SearchBreadth = index.SearchBreadth,
        EstimatedRecallAt10 = index.RecallSampleSize > 0 ? index.EstimatedRecallAt10 : null,
        RecallSampleSize = index.RecallSampleSize,
        RecallEstimatedAtCount = index.RecallEstimatedAtCount,
        BuildFailure = index.BuildFailure.Length > 0 ? index.BuildFailure : null,
        BuildFailedAt = index.BuildFailure.Length > 0 ? DateTimeOffset.FromUnixTimeMilliseconds(index.BuildFailedUnixMs) : null,
    };

    private static EmbeddingSetDrift ToDrift(Drift drift) => new()
    {
        Mmd2 = drift.Mmd2,
        PValue = drift.PValue,
        ComputedAt = DateTimeOffset.FromUnixTimeMilliseconds(drift.ComputedUnixMs),
        TrainingSample = drift.TrainingSample,
        ProductionSample = drift.ProductionSample,
        ThroughSequence = drift.ThroughSequence,
    };
}
