using Chroma.Protocol.V1;
using Chroma.Server.Recommendations.Serving;
using Chroma.Server.Services.Internal;
using Chroma.Server.Storage;
using Chroma.Server.Validation;
using Grpc.Core;
using EngineStrategy = Chroma.Server.Recommendations.RecommendationStrategy;

namespace Chroma.Server.Services;

/// <summary>
/// GetRecommendations: pages of the ranking the scoring worker keeps current, and the drift shown
/// in ListSets. Never waits on a scoring pass: it serves what was last published and says how
/// fresh it is (computed_unix_ms, scored_records, pending_records, stale).
/// </summary>
internal sealed partial class QueryService
{
    private const int DriftHistoryShown = 50;

    /// <inheritdoc />
    public override Task<GetRecommendationsResponse> GetRecommendations(GetRecommendationsRequest request, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(request);
        var set = QueryArguments.RequireSet(_store, request.SetId);
        var strategy = Strategy(request.Strategy);
        var pageSize = QueryArguments.PageSize(request.PageSize, _limits);
        var selection = QueryArguments.Selection(request.Filter, _limits);
        var (offset, tokenError) = PageToken.Decode(request.PageToken);
        QueryArguments.ThrowIfInvalid(tokenError);
        var dataset = selection.Dataset ?? DatasetNames.Production;
        if (dataset == DatasetNames.Training)
        {
            throw ValidationError.Invalid("filter.dataset: training records are the reference and are not scored; ask for production or another dataset").ToRpcException();
        }

        var scores = _scoring.Scores(set);
        var problem = scores.TrainingProblem;
        if (problem is null && scores.Revision == 0 && _scores.ReadTrainingFingerprint(set).Count == 0)
        {
            problem = $"embedding set '{set.SetId}' has no training records; recommendations need labelled training data (dataset \"training\")";
        }

        if (problem is not null)
        {
            throw new RpcException(new Status(StatusCode.FailedPrecondition, problem));
        }

        var page = _recommendations.GetPage(set, scores, new RecommendationPageRequest(
            strategy, dataset, selection.Metadata, request.AllScores, (int)Math.Min(offset, int.MaxValue - pageSize - 1), pageSize));
        var stored = _store.GetRecordsBySequence(set, [.. page.Items.Select(i => i.Sequence)], request.IncludeEmbeddings)
            .ToDictionary(r => r.Sequence);
        var inDataset = _store.CountRecords(set, new RecordSelection(dataset, RecordSelection.All.Metadata));
        var response = new GetRecommendationsResponse
        {
            ComputedUnixMs = scores.ComputedUnixMs,
            ScoredRecords = page.Scored,

            // A stale ranking covers none of the records against the current training data.
            PendingRecords = scores.Stale ? inDataset : Math.Max(0, inDataset - page.Scored),
            TotalResults = page.Total,
            Stale = scores.Stale,
        };

        // A record deleted since the last pass is left out rather than served without its data.
        foreach (var (sequence, item) in page.Items)
        {
            if (stored.TryGetValue(sequence, out var record))
            {
                response.Recommendations.Add(ToMessage(record, item));
            }
        }

        if (page.HasMore)
        {
            response.NextPageToken = PageToken.Encode(offset + pageSize);
        }

        return Task.FromResult(response);
    }

    private static Protocol.V1.Recommendation ToMessage(StoredRecord record, Recommendations.Recommendation item)
    {
        var message = new Protocol.V1.Recommendation { Record = record, Score = item.Score };
        message.Signals.AddRange(item.Signals.Select(s => new SignalScore
        {
            Signal = Recommendations.SignalKindNames.ToWireName(s.Kind),
            Value = s.Value,
            Percentile = s.Percentile,
            PValue = s.PValue,
        }));
        message.Reasons.AddRange(item.Reasons);
        message.DuplicateIds.AddRange(item.DuplicateIds);
        return message;
    }

    private static EngineStrategy Strategy(Protocol.V1.RecommendationStrategy strategy) => strategy switch
    {
        Protocol.V1.RecommendationStrategy.Unspecified or Protocol.V1.RecommendationStrategy.Balanced => EngineStrategy.Balanced,
        Protocol.V1.RecommendationStrategy.OutOfDistribution => EngineStrategy.OutOfDistribution,
        Protocol.V1.RecommendationStrategy.Uncertainty => EngineStrategy.Uncertainty,
        _ => throw ValidationError.Invalid($"strategy: unknown value {(int)strategy}").ToRpcException(),
    };

    private void AddDrift(EmbeddingSetInfo info, StoredEmbeddingSet set)
    {
        var history = _scores.ReadDriftHistory(set, DriftHistoryShown);
        if (history.Count == 0)
        {
            return;
        }

        info.DriftHistory.AddRange(history.Select(p => new Drift
        {
            Mmd2 = p.Mmd2,
            PValue = p.PValue,
            ComputedUnixMs = p.ComputedUnixMs,
            TrainingSample = p.TrainingSample,
            ProductionSample = p.ProductionSample,
            ThroughSequence = p.ThroughSequence,
        }));
        info.Drift = info.DriftHistory[^1].Clone();
    }
}
