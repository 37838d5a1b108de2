using System.Text;
using Chroma.Protocol.V1;
using Chroma.Server.Services.Internal;
using Chroma.Server.Storage;
using Chroma.Server.Validation;
using Grpc.Core;

namespace Chroma.Server.Services;

/// <summary>
/// ListSets: every set, or a page of them, in set_id order. An unpaged answer that would pass what a stock gRPC
/// client accepts (4 MiB) has its drift histories shortened until it fits (probe X, X10: about 1,100 sets did not).
/// </summary>
internal sealed partial class QueryService
{
    /// <summary>The size a stock gRPC client accepts by default (its MaxReceiveMessageSize).</summary>
    internal const int StockClientMessageLimit = 4 * 1024 * 1024;

    // Room for the gRPC framing and the fields the estimate below does not count.
    private const int UnpagedAnswerBudget = StockClientMessageLimit - (64 * 1024);

    /// <inheritdoc />
    public override Task<ListSetsResponse> ListSets(ListSetsRequest request, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.PageSize < 0)
        {
            QueryArguments.ThrowIfInvalid(ValidationError.Invalid($"page_size: must be 0 (every set) or more, got {request.PageSize}"));
        }

        // Larger asks get the server's page limit rather than an error: a client cannot know it, and pages anyway.
        var pageSize = Math.Min(request.PageSize, _limits.MaxPageSize);
        var after = AfterSetId(request.PageToken);
        var sets = _store.ListSets()
            .Where(s => after is null || string.CompareOrdinal(s.Set.SetId, after) > 0)
            .OrderBy(s => s.Set.SetId, StringComparer.Ordinal)
            .ToList();

        var response = new ListSetsResponse();
        var page = pageSize == 0 ? sets : sets.Take(pageSize).ToList();
        var retentionRuns = _retention.ReadRuns();
        foreach (var summary in page)
        {
            response.Sets.Add(SetInfo(summary, retentionRuns));
        }

        if (page.Count < sets.Count)
        {
            response.NextPageToken = PageTokenEnvelope.Seal(PageTokenKind.ListSets, SetsQuery, Encoding.UTF8.GetBytes(page[^1].Set.SetId));
        }
        else if (pageSize == 0)
        {
            response.DriftHistoryTrimmed = SetListingTrim.Fit(response.Sets, UnpagedAnswerBudget);
        }

        return Task.FromResult(response);
    }

    // The fingerprint of ListSets' query: it has no fields a token depends on (page_size may change between pages).
    private static ulong SetsQuery => new QueryFingerprint().Value;

    private static string? AfterSetId(string token)
    {
        if (token.Length == 0)
        {
            return null;
        }

        var (payload, error) = PageTokenEnvelope.OpenVariable(token, PageTokenKind.ListSets, SetsQuery, "none");
        QueryArguments.ThrowIfInvalid(error);
        return Encoding.UTF8.GetString(payload);
    }

    private EmbeddingSetInfo SetInfo(EmbeddingSetSummary summary, IReadOnlyList<RetentionRun>? retentionRuns)
    {
        var info = new EmbeddingSetInfo
        {
            SetId = summary.Set.SetId,
            Descriptor_ = summary.Set.Descriptor.Clone(),
            TotalRecords = summary.TotalRecords,
            CreatedUnixMs = summary.CreatedUnixMs,
            UpdatedUnixMs = summary.UpdatedUnixMs,
            Metric = summary.Set.Metric,
            ScoringFailure = FailureOf(summary.Set),
        };
        info.Datasets.AddRange(summary.DatasetCounts.Select(c => new DatasetCount { Dataset = c.Key, Count = c.Value }));
        AddDrift(info, summary.Set);
        info.Index = IndexInfo(summary.Set);
        info.Retention.AddRange(_retention.For(summary.Set, retentionRuns));
        return info;
    }
}
