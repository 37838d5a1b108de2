using Chroma.Server.Labeling;
using Chroma.Server.Storage;
using Grpc.Core;

namespace Chroma.Server.Web.Internal;

/// <summary>
/// POST /api/label, /api/review and /api/promote: the labeling loop from the map or the queue, through the
/// same <see cref="LabelingService"/> as the gRPC Labeling service (audited as reviewer <c>studio</c>).
/// Training records in a selection are skipped and counted: labels and reviews are for production data.
/// </summary>
internal sealed partial class StudioApi
{
    /// <summary>The reviewer name Studio's writes are recorded under (sign-in is by the shared key, not per person).</summary>
    public const string Reviewer = "studio";

    /// <summary>Labels the records (which also marks them reviewed); answers how many changed.</summary>
    public Task<IResult> LabelAsync(HttpContext context, CancellationToken cancellationToken) =>
        LabelingActionAsync(context, async (set, request, ids) =>
        {
            var changed = await _labeling.LabelAsync(set.SetId, [.. ids.Select(id => new LabelInput(id, request.Label!.Trim(), string.IsNullOrWhiteSpace(request.Note) ? null : request.Note.Trim()))], Reviewer, cancellationToken).ConfigureAwait(false);
            return (changed, 0L);
        }, cancellationToken, undoable: true, check: (_, request, _) => string.IsNullOrWhiteSpace(request.Label) ? BadRequest("label: is required") : null);

    /// <summary>Sets the review state (<c>reviewed</c>, <c>dismissed</c> or <c>unreviewed</c>, which undoes either).</summary>
    public Task<IResult> ReviewAsync(HttpContext context, CancellationToken cancellationToken) =>
        LabelingActionAsync(context, async (set, request, ids) =>
            (await _labeling.SetReviewStateAsync(set.SetId, ids, StateOf(request.State)!.Value, Reviewer, cancellationToken).ConfigureAwait(false), 0L),
            cancellationToken, undoable: true, check: (_, request, _) => StateOf(request.State) is null
            ? BadRequest($"state: must be reviewed, dismissed or unreviewed (got \"{request.State}\")")
            : null);

    /// <summary>
    /// Promotes the records' labels into the training data (a labeled training copy each); <c>already</c> counts those
    /// whose label was in training before.
    /// </summary>
    public Task<IResult> PromoteAsync(HttpContext context, CancellationToken cancellationToken) =>
        LabelingActionAsync(context, async (set, _, ids) =>
        {
            var result = await _labeling.PromoteAsync(set.SetId, ids, Reviewer, cancellationToken).ConfigureAwait(false);
            return (result.Promoted.Count, result.AlreadyPromoted);
        }, cancellationToken, check: NewClasses);

    // A review state by its name in Studio's requests, or null for any other text.
    private static ReviewState? StateOf(string? name) => name switch
    {
        "reviewed" => ReviewState.Reviewed,
        "dismissed" => ReviewState.Dismissed,
        "unreviewed" => ReviewState.Unreviewed,
        _ => null,
    };

    // act answers how many records it changed and how many it found done already. check refuses the request before act runs
    // (and whether or not any record is labelable: a bad label or state is a 400 for a selection of training records too). undoable: the records' reviews are read
    // before the action, and the answer carries a token that puts them back. Records named but no longer stored (deleted
    // meanwhile) are counted apart from the skipped training records, so the page can say nothing was saved for them.
    private async Task<IResult> LabelingActionAsync(
        HttpContext context,
        Func<StoredEmbeddingSet, ActionRequest, IReadOnlyList<string>, Task<(long Changed, long Already)>> act,
        CancellationToken cancellationToken,
        bool undoable = false,
        Func<StoredEmbeddingSet, ActionRequest, IReadOnlyList<Protocol.V1.StoredRecord>, IResult?>? check = null)
    {
        var request = StudioRequests.Read<ActionRequest>(context);
        if (FindSet(request?.Set) is not { } set)
        {
            return NoSuchSet(request?.Set);
        }

        var (ids, problem) = Ids(set, request!);
        if (problem is not null)
        {
            return BadRequest(problem);
        }

        var distinct = ids.Distinct(StringComparer.Ordinal).ToList();
        var records = _store.GetRecordsByIds(set, distinct, includeEmbeddings: false);
        var labelable = records.Where(r => r.Record.Dataset != DatasetNames.Training).ToList();
        if (check?.Invoke(set, request!, labelable) is { } refused)
        {
            return refused;
        }

        long changed = 0, already = 0;
        List<ReviewSnapshot>? before = null;
        try
        {
            if (undoable)
            {
                var reviews = _labeling.Reviews(set, [.. labelable.Select(r => r.Sequence)]);
                before = [.. labelable.Select(r => new ReviewSnapshot(r.Sequence, r.Record.Id, reviews.GetValueOrDefault(r.Sequence)))];
            }

            foreach (var chunk in labelable.Chunk(LabelingService.MaxRecordsPerCall))
            {
                var (done, found) = await act(set, request!, [.. chunk.Select(r => r.Record.Id)]).ConfigureAwait(false);
                changed += done;
                already += found;
            }
        }
        catch (RpcException e)
        {
            var status = e.StatusCode == StatusCode.NotFound ? StatusCodes.Status404NotFound : StatusCodes.Status400BadRequest;
            return Results.Json(new StudioError(e.Status.Detail), StudioJson.Options, statusCode: status);
        }

        _maps.Refresh(set, [.. labelable.Select(r => r.Sequence)]);
        var result = new ActionResult(changed, records.Count - labelable.Count) { Missing = distinct.Count - records.Count, Already = already };
        if (before is { Count: > 0 } && changed > 0)
        {
            result = result with { Undo = _undo.RememberReviews(set, before), UndoSeconds = _undo.Window.TotalSeconds };
        }

        return Results.Json(result, StudioJson.Options);
    }
}
