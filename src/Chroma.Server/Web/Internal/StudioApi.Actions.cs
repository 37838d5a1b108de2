using Chroma.Server.Validation;

namespace Chroma.Server.Web.Internal;

/// <summary>POST /api/tag and POST /api/delete: curation from the map or the queue, by record id.</summary>
internal sealed partial class StudioApi
{
    /// <summary>Merges <c>tags</c> into the metadata of <c>ids</c>; answers how many records changed.</summary>
    public async Task<IResult> TagAsync(HttpContext context, CancellationToken cancellationToken)
    {
        var request = await StudioRequests.ReadAsync<ActionRequest>(context, cancellationToken).ConfigureAwait(false);
        if (FindSet(request?.Set) is not { } set)
        {
            return NoSuchSet(request?.Set);
        }

        if (Ids(request!) is { } problem)
        {
            return BadRequest(problem);
        }

        if (request!.Tags is not { Count: > 0 } tags)
        {
            return BadRequest("tags: at least one key and value is required");
        }

        if (MetadataValidator.Validate(tags, _options, "tags") is { } invalid)
        {
            return BadRequest(invalid.Message);
        }

        var updated = await _store.TagAsync(set, request.Ids!, tags, cancellationToken).ConfigureAwait(false);
        return Results.Json(new ActionResult(updated), StudioJson.Options);
    }

    /// <summary>Deletes <c>ids</c> (tombstones: a re-sent batch cannot bring them back); answers how many were.</summary>
    public async Task<IResult> DeleteAsync(HttpContext context, CancellationToken cancellationToken)
    {
        var request = await StudioRequests.ReadAsync<ActionRequest>(context, cancellationToken).ConfigureAwait(false);
        if (FindSet(request?.Set) is not { } set)
        {
            return NoSuchSet(request?.Set);
        }

        if (Ids(request!) is { } problem)
        {
            return BadRequest(problem);
        }

        var deleted = await _store.DeleteAsync(set, request!.Ids!, _onDeleted, cancellationToken).ConfigureAwait(false);
        return Results.Json(new ActionResult(deleted), StudioJson.Options);
    }

    private string? Ids(ActionRequest request)
    {
        if (request.Ids is not { Count: > 0 } ids)
        {
            return "ids: at least one record id is required";
        }

        if (ids.Count > _options.MaxBatchRecords)
        {
            return $"ids: at most {_options.MaxBatchRecords} per action (MaxBatchRecords), got {ids.Count}";
        }

        return ids.Any(string.IsNullOrWhiteSpace) ? "ids: an id is empty" : null;
    }
}
