using Chroma.Protocol.V1;
using Chroma.Server.Labeling;
using Chroma.Server.Services.Internal;
using Chroma.Server.Validation;
using Grpc.Core;

namespace Chroma.Server.Services;

/// <summary>The <c>Labeling</c> gRPC service: a thin layer over <see cref="LabelingService"/>.</summary>
internal sealed class LabelingGrpcService : Protocol.V1.Labeling.LabelingBase
{
    private readonly LabelingService _labeling;
    private readonly LimitsOptions _limits;

    /// <summary>Creates the service.</summary>
    public LabelingGrpcService(LabelingService labeling, LimitsOptions limits)
    {
        _labeling = labeling;
        _limits = limits;
    }

    /// <inheritdoc />
    public override async Task<LabelRecordsResponse> LabelRecords(LabelRecordsRequest request, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(context);
        var labels = request.Labels.Select(l => new LabelInput(l.RecordId, l.Label, l.Note)).ToArray();
        var updated = await _labeling.LabelAsync(request.SetId, labels, request.Reviewer, context.CancellationToken).ConfigureAwait(false);
        return new LabelRecordsResponse { Updated = updated };
    }

    /// <inheritdoc />
    public override async Task<SetReviewStateResponse> SetReviewState(SetReviewStateRequest request, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(context);
        var updated = await _labeling.SetReviewStateAsync(
            request.SetId, request.Ids, (Labeling.ReviewState)(int)request.State, request.Reviewer, context.CancellationToken).ConfigureAwait(false);
        return new SetReviewStateResponse { Updated = updated };
    }

    /// <inheritdoc />
    public override async Task<PromoteLabelsResponse> PromoteLabels(PromoteLabelsRequest request, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(context);
        var result = await _labeling.PromoteAsync(request.SetId, request.Ids, request.PromotedBy, context.CancellationToken).ConfigureAwait(false);
        var response = new PromoteLabelsResponse { AlreadyPromoted = result.AlreadyPromoted };
        response.Promoted.AddRange(result.Promoted.Select(p => new Promotion { RecordId = p.RecordId, TrainingRecordId = p.TrainingRecordId }));
        return response;
    }

    /// <inheritdoc />
    public override Task<GetLabeledRecordsResponse> GetLabeledRecords(GetLabeledRecordsRequest request, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(request);
        var pageSize = QueryArguments.PageSize(request.PageSize, _limits);
        var query = PageToken.LabeledQuery(request.SetId);
        var (after, error) = PageToken.Decode(request.PageToken, PageTokenKind.GetLabeledRecords, query, "set_id");
        QueryArguments.ThrowIfInvalid(error);
        var page = _labeling.GetLabeled(request.SetId, after, pageSize, request.IncludeEmbeddings);
        var response = new GetLabeledRecordsResponse();
        foreach (var item in page.Records)
        {
            item.Record.Review = ReviewMessages.ToMessage(item.Review);
            response.Records.Add(item.Record);
        }

        if (page.NextAfterSequence is { } next)
        {
            response.NextPageToken = PageToken.Encode(PageTokenKind.GetLabeledRecords, query, next);
        }

        return Task.FromResult(response);
    }

    /// <inheritdoc />
    public override Task<GetReviewHistoryResponse> GetReviewHistory(GetReviewHistoryRequest request, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(request);
        var pageSize = QueryArguments.PageSize(request.PageSize, _limits);
        var query = PageToken.HistoryQuery(request.SetId, request.RecordId);
        var (after, error) = PageToken.Decode(request.PageToken, PageTokenKind.GetReviewHistory, query, "set_id or record_id");
        QueryArguments.ThrowIfInvalid(error);
        var events = _labeling.GetHistory(request.SetId, request.RecordId, after, pageSize + 1);
        var response = new GetReviewHistoryResponse();
        response.Events.AddRange(events.Take(pageSize).Select(e => new Protocol.V1.ReviewEvent
        {
            RecordId = e.RecordId,
            Action = e.Action,
            Actor = e.Actor,
            UnixMs = e.UnixMs,
            Detail = e.Detail ?? string.Empty,
        }));
        if (events.Count > pageSize)
        {
            response.NextPageToken = PageToken.Encode(PageTokenKind.GetReviewHistory, query, events[pageSize - 1].Event);
        }

        return Task.FromResult(response);
    }
}
