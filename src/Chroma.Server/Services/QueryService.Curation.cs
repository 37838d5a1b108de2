using Chroma.Protocol.V1;
using Chroma.Server.Services.Internal;
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
        QueryArguments.ThrowIfInvalid(MergedTagsValidator.Validate(_store, set, ids, request.Tags, _limits));
        var updated = await _store.TagAsync(set, ids, request.Tags, context.CancellationToken).ConfigureAwait(false);
        return new TagRecordsResponse { Updated = updated };
    }
}
