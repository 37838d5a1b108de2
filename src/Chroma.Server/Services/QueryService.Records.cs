using Chroma.Protocol.V1;
using Chroma.Server.Labeling;
using Chroma.Server.Services.Internal;
using Chroma.Server.Storage;
using Grpc.Core;

namespace Chroma.Server.Services;

/// <summary>
/// GetRecords: pages in sequence order, or exactly the records asked for by id (then the filter
/// and page token are ignored, and any unknown or deleted id answers NotFound).
/// </summary>
internal sealed partial class QueryService
{
    /// <inheritdoc />
    public override Task<GetRecordsResponse> GetRecords(GetRecordsRequest request, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(request);
        var set = QueryArguments.RequireSet(_store, request.SetId);
        return Task.FromResult(request.Ids.Count > 0 ? GetByIds(set, request) : GetPage(set, request));
    }

    private GetRecordsResponse GetByIds(StoredEmbeddingSet set, GetRecordsRequest request)
    {
        var ids = QueryArguments.RecordIds(request.Ids, _limits.MaxPageSize);
        var records = _store.GetRecordsByIds(set, ids, request.IncludeEmbeddings);
        if (records.Count != ids.Count)
        {
            var found = records.Select(r => r.Record.Id).ToHashSet(StringComparer.Ordinal);
            var missing = ids.First(id => !found.Contains(id));
            throw new RpcException(new Status(StatusCode.NotFound, $"ids: record {missing} not found in embedding set '{set.SetId}'"));
        }

        var response = new GetRecordsResponse();
        response.Records.AddRange(records);
        ReviewMessages.Attach(_labeling, set, records);
        return response;
    }

    private GetRecordsResponse GetPage(StoredEmbeddingSet set, GetRecordsRequest request)
    {
        var pageSize = QueryArguments.PageSize(request.PageSize, _limits);
        var selection = QueryArguments.Selection(request.Filter, _limits);
        var query = PageToken.RecordsQuery(set.SetId, selection);
        var (after, tokenError) = PageToken.Decode(request.PageToken, PageTokenKind.GetRecords, query, "set_id or filter");
        QueryArguments.ThrowIfInvalid(tokenError);

        var page = _store.GetRecords(set, new RecordQuery(selection, after, pageSize, request.IncludeEmbeddings));
        var response = new GetRecordsResponse();
        response.Records.AddRange(page.Records);
        ReviewMessages.Attach(_labeling, set, page.Records);
        if (page.HasMore)
        {
            response.NextPageToken = PageToken.Encode(PageTokenKind.GetRecords, query, page.Records[^1].Sequence);
        }

        return response;
    }
}
