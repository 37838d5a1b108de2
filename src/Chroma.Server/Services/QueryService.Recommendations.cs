using System.Globalization;
using Chroma.Protocol.V1;
using Chroma.Server.Labeling;
using Chroma.Server.Recommendations.Serving;
using Chroma.Server.Services.Internal;
using Chroma.Server.Storage;
using Chroma.Server.Validation;
using Grpc.Core;
using EngineStrategy = Chroma.Server.Recommendations.RecommendationStrategy;

namespace Chroma.Server.Services;

/// <summary>
/// GetRecommendations: pages of the ranking the scoring worker keeps current, and the drift shown
/// in ListSets. Serves what was last published and says how fresh it is (computed_unix_ms,
/// scored_records, pending_records, covered_through_sequence, stale); waits for a pass only when the
/// request asks (wait_for_acknowledged, wait_through_sequence), up to its timeout.
/// </summary>
internal sealed partial class QueryService
{
    private const int DriftHistoryShown = 50;
    private const int DefaultWaitMs = 30_000;
    private const int MaxWaitMs = 600_000;

    // How long a replica asked for the next page of a ranking it does not serve waits to load it from the database.
    private static readonly TimeSpan ReplicaCatchUpWait = TimeSpan.FromSeconds(10);

    // How long, within that, it waits for a publication that may be on its way when the database names no newer ranking.
    private static readonly TimeSpan ReplicaPublishGrace = TimeSpan.FromSeconds(2);

    /// <inheritdoc />
    public override async Task<GetRecommendationsResponse> GetRecommendations(GetRecommendationsRequest request, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(context);
        var set = QueryArguments.RequireSet(_store, request.SetId);
        var strategy = Strategy(request.Strategy);
        var pageSize = QueryArguments.PageSize(request.PageSize, _limits);
        var selection = QueryArguments.Selection(request.Filter, _limits);
        var dataset = selection.Dataset ?? DatasetNames.Production;
        if (dataset == DatasetNames.Training)
        {
            throw ValidationError.Invalid("filter.dataset: training records are the reference and are not scored; ask for production or another dataset").ToRpcException();
        }

        var diversity = Spread(request.Diversity);
        var queryHash = RecommendationPageToken.QueryHash(set.SetId, strategy, dataset, selection.Metadata, request.AllScores, diversity, request.IncludeReviewed);
        var (offset, anchor, tokenError) = RecommendationPageToken.Decode(request.PageToken, queryHash);
        QueryArguments.ThrowIfInvalid(tokenError);

        var covers = await WaitForCoverageAsync(set, request, context.Deadline, context.CancellationToken).ConfigureAwait(false);
        var scores = _scoring.Scores(set);
        if (_scoring.TrainingProblem(set, scores) is { } problem)
        {
            throw new RpcException(new Status(StatusCode.FailedPrecondition, problem));
        }

        var reviewed = request.IncludeReviewed ? null : _labeling.Reviewed(set);

        // A metadata filter is read once per request; a later page ranks the records its first page matched (the token
        // names them), so records tagged into or out of the filter meanwhile neither shift the pages nor are skipped.
        var matching = selection.Metadata.Count > 0 ? _scores.SelectSequences(set, new RecordSelection(dataset, selection.Metadata)) : null;
        if (anchor is { } tokenAnchor && tokenAnchor != RankingAnchor.Of(scores, reviewed).Filtered(matching))
        {
            // A later page of a ranking that has been replaced since, or (with replicas) that another replica served and
            // this one has not loaded yet, or of a filter whose matches were tagged since.
            (scores, reviewed, matching) = await RankingOfTokenAsync(set, tokenAnchor, request.IncludeReviewed, matching, context).ConfigureAwait(false);
        }

        // A record deleted since the last pass is left out rather than served without its data, and the page is filled
        // from deeper in the ranking (probe W, W9: while a long pass ran after retention deleted most of a set, pages of
        // 20 held 10-11 records); the next page token starts after the last entry looked at.
        var start = (int)Math.Min(offset, int.MaxValue - pageSize - 1);
        var looked = 0;
        var ask = pageSize;
        var more = false;
        var served = new List<(StoredRecord Record, Recommendations.Recommendation Item)>();
        RecommendationPageResult page;
        do
        {
            page = _recommendations.GetPage(set, scores, new RecommendationPageRequest(
                strategy, dataset, selection.Metadata, request.AllScores, start + looked, ask, diversity)
            {
                Excluded = reviewed,
                Matching = matching,
            });
            var records = _store.GetRecordsBySequence(set, [.. page.Items.Select(i => i.Sequence)], request.IncludeEmbeddings);
            ReviewMessages.Attach(_labeling, set, records);
            var stored = records.ToDictionary(r => r.Sequence);
            var used = 0;
            foreach (var (sequence, item) in page.Items)
            {
                used++;
                if (stored.TryGetValue(sequence, out var record))
                {
                    served.Add((record, item));
                    if (served.Count == pageSize)
                    {
                        break;
                    }
                }
            }

            looked += used;
            more = used < page.Items.Count || page.HasMore;

            // Deeper asks grow with what was looked at, so a run of thousands of deleted records costs a few reads.
            ask = Math.Min(RecommendationPageRequest.MaxPageSize, Math.Max(pageSize - served.Count, looked));
        }
        while (served.Count < pageSize && more && page.Items.Count > 0 && start + looked < int.MaxValue - RecommendationPageRequest.MaxPageSize - 1);

        var inDataset = _store.CountRecords(set, new RecordSelection(dataset, RecordSelection.All.Metadata));
        var response = new GetRecommendationsResponse
        {
            ComputedUnixMs = scores.ComputedUnixMs,
            ScoredRecords = page.Scored,

            // A stale ranking covers none of the records against the current training data.
            PendingRecords = scores.Stale ? inDataset : Math.Max(0, inDataset - page.Scored),
            TotalResults = page.Total,
            CoveredThroughSequence = _scoring.CoveredThrough(set),
            LatestSequence = _scoring.LatestStored(set),
            CoversRequest = covers,
            Stale = scores.Stale,
            ScoringFailure = FailureOf(set),
        };

        foreach (var (record, item) in served)
        {
            response.Recommendations.Add(ToMessage(record, item));
        }

        if (more)
        {
            _pinned.Pin(set.Key, scores, reviewed, matching);
            response.NextPageToken = RecommendationPageToken.Encode(start + looked, RankingAnchor.Of(scores, reviewed).Filtered(matching), queryHash);
        }

        return response;
    }

    // The ranking a page token names: one this server keeps (PinnedRankings), or, with replicas, the current ranking once
    // this replica has caught up with the database (the token may come from a replica that loaded a newer pass first).
    private async Task<(Recommendations.Scheduling.SetScores Scores, ReviewedSnapshot? Reviewed, IReadOnlySet<long>? Matching)> RankingOfTokenAsync(
        StoredEmbeddingSet set, RankingAnchor anchor, bool includeReviewed, IReadOnlySet<long>? matching, ServerCallContext context)
    {
        if (_pinned.Find(set.Key, anchor) is { } held)
        {
            return held;
        }

        if (_scoring.Shared)
        {
            using var wait = CancellationTokenSource.CreateLinkedTokenSource(context.CancellationToken);
            wait.CancelAfter(DeadlineBoundedWait.Limit(ReplicaCatchUpWait, context.Deadline, DateTime.UtcNow));
            try
            {
                // Only when the scoring replica stored a ranking this one has not read: else the token's ranking is gone.
                await _scoring.CatchUpWithStoredRankingAsync(set, wait.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!context.CancellationToken.IsCancellationRequested)
            {
                // Not caught up in time: answered below as a ranking no longer held.
            }

            if (Current(set, anchor, includeReviewed, matching) is { } current)
            {
                return current;
            }

            // The scoring replica answers a request waiting for its pass before it records the pass in the database:
            // a token of that ranking can arrive here a moment before the database names it. Wait for one more read.
            using var grace = CancellationTokenSource.CreateLinkedTokenSource(wait.Token);
            grace.CancelAfter(ReplicaPublishGrace);
            try
            {
                await _scoring.NextRankingAsync(set, grace.Token).ConfigureAwait(false);
                await _scoring.CatchUpWithStoredRankingAsync(set, wait.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!context.CancellationToken.IsCancellationRequested)
            {
            }

            if (Current(set, anchor, includeReviewed, matching) is { } caughtUp)
            {
                return caughtUp;
            }
        }

        throw new RpcException(new Status(StatusCode.FailedPrecondition, string.Create(
            CultureInfo.InvariantCulture,
            $"page_token: the ranking it pages through has been replaced (records arrived, or training or reviews changed) and is no longer held (a server keeps one replaced ranking per set, {PinnedRankings.IdleLimit.TotalMinutes:0} minutes after its last page{(_scoring.Shared ? "; a replica holds only the replaced rankings it served pages of itself" : string.Empty)}); start again from the first page")));
    }

    // The current ranking when the anchor names it, else the one this server keeps under it, else null.
    private (Recommendations.Scheduling.SetScores Scores, ReviewedSnapshot? Reviewed, IReadOnlySet<long>? Matching)? Current(
        StoredEmbeddingSet set, RankingAnchor anchor, bool includeReviewed, IReadOnlySet<long>? matching)
    {
        var scores = _scoring.Scores(set);
        var reviewed = includeReviewed ? null : _labeling.Reviewed(set);
        return RankingAnchor.Of(scores, reviewed).Filtered(matching) == anchor ? (scores, reviewed, matching) : _pinned.Find(set.Key, anchor);
    }

    private static Protocol.V1.Recommendation ToMessage(StoredRecord record, Recommendations.Recommendation item)
    {
        var message = new Protocol.V1.Recommendation { Record = record, Score = item.Score, ScoreRank = item.ScoreRank };
        message.Signals.AddRange(item.Signals.Select(s => new SignalScore
        {
            Signal = Recommendations.SignalKindNames.ToWireName(s.Kind),
            Value = s.Value,
            Percentile = s.Percentile,
            PValue = s.PValue,
            LeadPValue = s.Kind == Recommendations.SignalKind.ProductionShift && item.ShiftLeadSurprise is { } lead ? Math.Pow(10, -lead) : 0,
            WeightFactor = Recommendations.SignalCombiner.WeightFactor(s.Kind, item.BoundaryFactor),
        }));
        message.Reasons.AddRange(item.Reasons);
        message.DuplicateIds.AddRange(item.DuplicateIds);
        message.DuplicateCount = item.DuplicateCount;
        return message;
    }

    private static EngineStrategy Strategy(Protocol.V1.RecommendationStrategy strategy) => strategy switch
    {
        Protocol.V1.RecommendationStrategy.Unspecified or Protocol.V1.RecommendationStrategy.Balanced => EngineStrategy.Balanced,
        Protocol.V1.RecommendationStrategy.OutOfDistribution => EngineStrategy.OutOfDistribution,
        Protocol.V1.RecommendationStrategy.Uncertainty => EngineStrategy.Uncertainty,
        Protocol.V1.RecommendationStrategy.Labeling => EngineStrategy.Labeling,
        _ => throw ValidationError.Invalid($"strategy: unknown value {(int)strategy}").ToRpcException(),
    };

    // Waits as the request asks, ending before the call's deadline so the answer (covers_request = false) arrives
    // instead of DeadlineExceeded; true when the ranking then covers what it waited for (or no wait was asked).
    private async Task<bool> WaitForCoverageAsync(StoredEmbeddingSet set, GetRecommendationsRequest request, DateTime deadline, CancellationToken callCancellation)
    {
        if (request.WaitTimeoutMs is < 0 or > MaxWaitMs)
        {
            throw ValidationError.Invalid($"wait_timeout_ms: must be between 0 and {MaxWaitMs} (0 = {DefaultWaitMs}), got {request.WaitTimeoutMs}").ToRpcException();
        }

        if (request.WaitThroughSequence < 0)
        {
            throw ValidationError.Invalid($"wait_through_sequence: must be >= 0, got {request.WaitThroughSequence}").ToRpcException();
        }

        if (!request.WaitForAcknowledged && request.WaitThroughSequence == 0)
        {
            return true;
        }

        // Records and deletes answered before the call, through whichever replica: the ranking must have scored the
        // records and dropped the deleted ones.
        var acknowledged = await _scoring.AcknowledgedAsync(set, callCancellation).ConfigureAwait(false);
        var through = request.WaitThroughSequence;
        if (through > acknowledged.Sequence && through <= _store.ReadLastSequences().Values.DefaultIfEmpty(0).Max())
        {
            // One counter gives out the sequences of every set of the store (and of deletes): a sequence it has given out
            // already (one of another set's records, say) lies beyond every record of this set still to come, so this
            // set's records through it are those it holds now. Waiting for this set to reach it waited out the timeout.
            through = acknowledged.Sequence;
        }

        var target = Math.Max(request.WaitForAcknowledged ? acknowledged.Sequence : 0, through);
        var deletes = request.WaitForAcknowledged ? acknowledged.Deletes : 0;

        var requested = TimeSpan.FromMilliseconds(request.WaitTimeoutMs == 0 ? DefaultWaitMs : request.WaitTimeoutMs);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(callCancellation);
        timeout.CancelAfter(DeadlineBoundedWait.Limit(requested, deadline, DateTime.UtcNow));
        var covered = await _scoring.WaitForCoverageAsync(set, target, deletes, timeout.Token).ConfigureAwait(false);
        callCancellation.ThrowIfCancellationRequested();
        return covered;
    }

    // The set's last failed pass on this replica, or null (the field left out) after a success.
    private Protocol.V1.ScoringFailure? FailureOf(StoredEmbeddingSet set) => _scoring.LastFailure(set) is { } failure
        ? new Protocol.V1.ScoringFailure
        {
            Message = failure.Message,
            FailedUnixMs = failure.FailedAt.ToUnixTimeMilliseconds(),
            ConsecutiveFailures = failure.ConsecutiveFailures,
        }
        : null;

    private static Recommendations.Diversity Spread(Protocol.V1.Diversity diversity) => diversity switch
    {
        Protocol.V1.Diversity.Unspecified or Protocol.V1.Diversity.Default => Recommendations.Diversity.Default,
        Protocol.V1.Diversity.Off => Recommendations.Diversity.Off,
        Protocol.V1.Diversity.Strong => Recommendations.Diversity.Strong,
        _ => throw ValidationError.Invalid($"diversity: unknown value {(int)diversity}").ToRpcException(),
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
