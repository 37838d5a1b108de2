using Chroma.Server.Storage;
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

        var (ids, problem) = Ids(set, request!);
        if (problem is not null)
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

        var updated = await _store.TagAsync(set, ids, tags, cancellationToken).ConfigureAwait(false);
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

        var (ids, problem) = Ids(set, request!);
        if (problem is not null)
        {
            return BadRequest(problem);
        }

        var deleted = await _store.DeleteAsync(set, ids, cancellationToken).ConfigureAwait(false);
        return Results.Json(new ActionResult(deleted), StudioJson.Options);
    }

    // The records named by ids, or by sequences (resolved to the ids of the live ones).
    private (IReadOnlyList<string> Ids, string? Problem) Ids(StoredEmbeddingSet set, ActionRequest request)
    {
        var count = (request.Ids?.Count ?? 0) + (request.Sequences?.Count ?? 0);
        if (count == 0)
        {
            return ([], "ids or sequences: at least one record is required");
        }

        if (count > _options.MaxBatchRecords)
        {
            return ([], $"ids and sequences: at most {_options.MaxBatchRecords} records per action (MaxBatchRecords), got {count}");
        }

        var ids = new List<string>(request.Ids ?? []);
        if (ids.Any(string.IsNullOrWhiteSpace))
        {
            return ([], "ids: an id is empty");
        }

        if (request.Sequences is { Count: > 0 } sequences)
        {
            ids.AddRange(_store.GetRecordsBySequence(set, sequences, includeEmbeddings: false).Select(r => r.Record.Id));
        }

        return (ids, null);
    }
}
