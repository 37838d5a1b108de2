using Chroma.Server.Storage;
using Chroma.Server.Validation;

namespace Chroma.Server.Web.Internal;

/// <summary>POST /api/tag and POST /api/delete: curation from the map or the queue, by record id.</summary>
internal sealed partial class StudioApi
{
    /// <summary>Merges <c>tags</c> into the metadata of <c>ids</c>; answers how many records changed.</summary>
    public async Task<IResult> TagAsync(HttpContext context, CancellationToken cancellationToken)
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

        if (request!.Tags is not { Count: > 0 } tags)
        {
            return BadRequest("tags: at least one key and value is required");
        }

        // JSON null reads as a null value here (the validators take values as text): answered, not a NullReferenceException.
        if (tags.FirstOrDefault(t => t.Value is null) is { Key: { } nullKey })
        {
            return BadRequest($"tags[\"{Validation.Internal.TextPreview.Of(nullKey)}\"]: a value is required (text; \"\" for an empty one), got null");
        }

        if ((MetadataValidator.Validate(tags, _limits, "tags") ?? MergedTagsValidator.Validate(_store, set, ids, tags, _limits)) is { } invalid)
        {
            return BadRequest(invalid.Message);
        }

        var (updated, token) = await _undo.TagAsync(set, ids, tags, cancellationToken).ConfigureAwait(false);
        return Results.Json(new ActionResult(updated) { Undo = token, UndoSeconds = _undo.Window.TotalSeconds }, StudioJson.Options);
    }

    /// <summary>POST /api/undo with <c>{"token": "..."}</c>: undoes a tag, a delete, a label or a review within the undo window.</summary>
    public async Task<IResult> UndoAsync(HttpContext context, CancellationToken cancellationToken)
    {
        var request = StudioRequests.Read<UndoRequest>(context);
        if (await _undo.UndoAsync(request?.Token, cancellationToken).ConfigureAwait(false) is not { } result)
        {
            return Results.Json(
                new StudioError($"token: nothing to undo (unknown, already undone, or older than the undo window of {_undo.Window.TotalSeconds:0.#} s)"),
                StudioJson.Options,
                statusCode: StatusCodes.Status410Gone);
        }

        if (result.Restored is { } restored)
        {
            _maps.Refresh(restored.Set, restored.Sequences);
        }

        return Results.Json(result, StudioJson.Options);
    }

    /// <summary>
    /// Deletes <c>ids</c> after the undo window (tombstones then: a re-sent batch cannot bring them back); they leave
    /// the map and the queue at once. Answers how many live records will be deleted and the undo token.
    /// </summary>
    public IResult Delete(HttpContext context)
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

        var records = _store.GetRecordsByIds(set, [.. ids.Distinct(StringComparer.Ordinal)], includeEmbeddings: false);
        var token = _undo.DeferDelete(set, records);
        return Results.Json(new ActionResult(records.Count) { Undo = token, UndoSeconds = _undo.Window.TotalSeconds }, StudioJson.Options);
    }

    // The records named by ids, or by sequences (resolved to the ids of the live ones).
    private (IReadOnlyList<string> Ids, string? Problem) Ids(StoredEmbeddingSet set, ActionRequest request)
    {
        var count = (request.Ids?.Count ?? 0) + (request.Sequences?.Count ?? 0);
        if (count == 0)
        {
            return ([], "ids or sequences: at least one record is required");
        }

        if (count > _limits.MaxBatchRecords)
        {
            return ([], $"ids and sequences: at most {_limits.MaxBatchRecords} records per action (Chroma:Limits:MaxBatchRecords), got {count}");
        }

        var ids = new List<string>(request.Ids ?? []);
        if (ids.Any(string.IsNullOrWhiteSpace))
        {
            return ([], "ids: an id is empty");
        }

        // Stored lower-case: an id in upper case names the same record, as in the gRPC API (QueryArguments.RecordIds).
        ids = ids.ConvertAll(RecordIdFormat.Normalize);

        if (request.Sequences is { Count: > 0 } sequences)
        {
            ids.AddRange(_store.GetRecordsBySequence(set, sequences, includeEmbeddings: false).Select(r => r.Record.Id));
        }

        return (ids, null);
    }
}
