using Chroma.Protocol.V1;
using Chroma.Server.Indexing;
using Chroma.Server.Labeling;
using Chroma.Server.Recommendations.Scheduling;
using Chroma.Server.Recommendations.Serving;
using Chroma.Server.Retention;
using Chroma.Server.Services.Internal;
using Chroma.Server.Validation;
using Chroma.Server.Storage;
using Grpc.Core;

namespace Chroma.Server.Services;

/// <summary>
/// The <c>Query</c> service: sets, records, counts, nearest neighbours and curation. Unknown sets
/// or ids answer NotFound, bad arguments InvalidArgument naming the field.
/// </summary>
internal sealed partial class QueryService : Query.QueryBase
{
    private readonly IRecordStore _store;
    private readonly EmbeddingSetIndexes _indexes;
    private readonly LimitsOptions _limits;
    private readonly ScoringScheduler _scoring;
    private readonly RecommendationPages _recommendations;
    private readonly IRecordScoreStore _scores;
    private readonly LabelingService _labeling;
    private readonly RetentionReport _retention;
    private readonly PinnedRankings _pinned;

    /// <summary>Creates the service.</summary>
    public QueryService(
        IRecordStore store,
        EmbeddingSetIndexes indexes,
        LimitsOptions limits,
        ScoringScheduler scoring,
        RecommendationPages recommendations,
        IRecordScoreStore scores,
        LabelingService labeling,
        RetentionReport retention,
        PinnedRankings pinned)
    {
        ArgumentNullException.ThrowIfNull(indexes);
        ArgumentNullException.ThrowIfNull(scoring);
        _store = store;
        _indexes = indexes;
        _limits = limits;
        _scoring = scoring;
        _recommendations = recommendations;
        _scores = scores;
        _labeling = labeling;
        _retention = retention;
        _pinned = pinned;
    }

    /// <inheritdoc />
    public override Task<CountRecordsResponse> CountRecords(CountRecordsRequest request, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(request);
        var set = QueryArguments.RequireSet(_store, request.SetId);
        var selection = QueryArguments.Selection(request.Filter, _limits);
        return Task.FromResult(new CountRecordsResponse { Count = _store.CountRecords(set, selection) });
    }
}
