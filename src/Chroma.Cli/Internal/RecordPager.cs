using System.Runtime.CompilerServices;
using Chroma.Protocol.V1;

namespace Chroma.Server.Cli.Internal;

/// <summary>Reads every record of a set page by page, in ingest order.</summary>
internal static class RecordPager
{
    /// <summary>Counts the records <see cref="ReadAllAsync"/> would return.</summary>
    public static async Task<long> CountAsync(CliContext context, string setId, string? dataset, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(context);
        var response = await context.CreateQueryClient()
            .CountRecordsAsync(new CountRecordsRequest { SetId = setId, Filter = Filter(dataset) }, deadline: context.Deadline(), cancellationToken: cancellationToken)
            .ConfigureAwait(false);
        return response.Count;
    }

    /// <summary>Yields pages of records (with embeddings) until the server says there is no further page.</summary>
    public static async IAsyncEnumerable<IReadOnlyList<StoredRecord>> ReadAllAsync(
        CliContext context,
        string setId,
        string? dataset,
        int pageSize,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(context);
        var client = context.CreateQueryClient();
        var token = string.Empty;
        do
        {
            var request = new GetRecordsRequest
            {
                SetId = setId,
                Filter = Filter(dataset),
                PageSize = pageSize,
                PageToken = token,
                IncludeEmbeddings = true,
            };
            var page = await client.GetRecordsAsync(request, deadline: context.Deadline(), cancellationToken: cancellationToken).ConfigureAwait(false);
            yield return page.Records;
            token = page.NextPageToken;
        }
        while (token.Length > 0);
    }

    private static RecordFilter Filter(string? dataset) => new() { Dataset = dataset ?? string.Empty };
}
