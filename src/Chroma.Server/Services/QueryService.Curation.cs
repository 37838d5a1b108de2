using Chroma.Protocol.V1;
using Chroma.Server.Services.Internal;
using Chroma.Server.Storage;
using Chroma.Server.Validation;
using Grpc.Core;

namespace Chroma.Server.Services;

/// <summary>DeleteRecords and TagRecords.</summary>
internal sealed partial class QueryService
{
    /// <inheritdoc />
    public override async Task<DeleteRecordsResponse> DeleteRecords(DeleteRecordsRequest request, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(context);
        var set = QueryArguments.RequireSet(_store, request.SetId);
        var ids = QueryArguments.RecordIds(request.Ids, _limits.MaxBatchRecords);
        var deleted = await _store.DeleteAsync(set, ids, context.CancellationToken).ConfigureAwait(false);
        return new DeleteRecordsResponse { Deleted = deleted };
    }

    /// <inheritdoc />
    public override async Task<TagRecordsResponse> TagRecords(TagRecordsRequest request, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(context);
        var set = QueryArguments.RequireSet(_store, request.SetId);
        var ids = QueryArguments.RecordIds(request.Ids, _limits.MaxBatchRecords);
        if (request.Tags.Count == 0)
        {
            throw ValidationError.Invalid("tags: is empty").ToRpcException();
        }

        QueryArguments.ThrowIfInvalid(MetadataValidator.Validate(request.Tags, _limits, "tags"));
        ThrowIfTooManyEntries(set, ids, request.Tags);
        var updated = await _store.TagAsync(set, ids, request.Tags, context.CancellationToken).ConfigureAwait(false);
        return new TagRecordsResponse { Updated = updated };
    }

    // The limit holds for the merged record, not only for the request: a record tagged past it could not be sent again
    // as it is stored (a retry of its original is still a duplicate: the content hash is the ingested one).
    private void ThrowIfTooManyEntries(StoredEmbeddingSet set, IReadOnlyList<string> ids, IReadOnlyDictionary<string, string> tags)
    {
        foreach (var record in _store.GetRecordsByIds(set, ids, includeEmbeddings: false))
        {
            var metadata = record.Record.Metadata;
            var merged = metadata.Count + tags.Keys.Count(k => !metadata.ContainsKey(k));
            if (merged > _limits.MaxMetadataEntries)
            {
                throw ValidationError.Invalid(FormattableString.Invariant(
                    $"tags: record {record.Record.Id} would hold {merged} metadata entries, limit {_limits.MaxMetadataEntries} (Chroma:Limits:MaxMetadataEntries); nothing was tagged")).ToRpcException();
            }
        }
    }
}
