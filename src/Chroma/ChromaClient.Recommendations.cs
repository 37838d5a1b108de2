using System.Runtime.CompilerServices;
using Chroma.Protocol.V1;
using Grpc.Core;

namespace Chroma;

public sealed partial class ChromaClient
{
    // Polling interval of WaitForRecommendationsAsync: scoring passes take at least the server's debounce (500 ms by default).
    private static readonly TimeSpan RecommendationPollInterval = TimeSpan.FromMilliseconds(100);

    /// <summary>
    /// Reads one page of a set's recommendations: which production inputs to look at or label next,
    /// and why. The server ranks what its background worker last scored and never waits for a
    /// pass; <see cref="RecommendationPage.PendingRecords"/> says how much is not scored yet.
    /// </summary>
    /// <exception cref="ChromaException">
    /// NotFound for an unknown set; FailedPrecondition when the set has no labelled training data;
    /// InvalidArgument for a bad page size, token or filter.
    /// </exception>
    public async Task<RecommendationPage> GetRecommendationsAsync(
        string setId, RecommendationQuery? query = null, CancellationToken cancellationToken = default)
    {
        query ??= new RecommendationQuery();
        var request = new GetRecommendationsRequest
        {
            SetId = setId ?? string.Empty,
            Strategy = ToProtocol(query.Strategy),
            Filter = ToFilter(query.Dataset, query.Metadata),
            PageSize = query.PageSize,
            PageToken = query.PageToken ?? string.Empty,
            AllScores = query.AllScores,
            IncludeEmbeddings = query.IncludeEmbeddings,
        };
        var response = await CallAsync("GetRecommendations", setId, o => _query.GetRecommendationsAsync(request, o), cancellationToken).ConfigureAwait(false);
        return new RecommendationPage(
            [.. response.Recommendations.Select(ToRecommendation)],
            response.ComputedUnixMs == 0 ? null : DateTimeOffset.FromUnixTimeMilliseconds(response.ComputedUnixMs),
            response.ScoredRecords,
            response.PendingRecords,
            response.TotalResults,
            string.IsNullOrEmpty(response.NextPageToken) ? null : response.NextPageToken)
        {
            Stale = response.Stale,
        };
    }

    /// <summary>
    /// Every scored record of a dataset, best first under <paramref name="strategy"/>, with all its
    /// signals and no duplicate collapsing or diversity re-ranking: the raw material for evaluating
    /// the scores (AUROC, precision at k). Pages through <see cref="RecommendationQuery.AllScores"/>.
    /// </summary>
    /// <exception cref="ChromaException">As <see cref="GetRecommendationsAsync"/>.</exception>
    public async IAsyncEnumerable<ChromaRecommendation> GetAllScoresAsync(
        string setId,
        RecommendationStrategy strategy = RecommendationStrategy.Balanced,
        string? dataset = null,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var query = new RecommendationQuery { Strategy = strategy, Dataset = dataset, AllScores = true, PageSize = 1000 };
        do
        {
            var page = await GetRecommendationsAsync(setId, query, cancellationToken).ConfigureAwait(false);
            foreach (var item in page.Items)
            {
                yield return item;
            }

            query.PageToken = page.NextPageToken;
        }
        while (query.PageToken is not null);
    }

    /// <summary>
    /// Polls <see cref="GetRecommendationsAsync"/> until the server has scored at least
    /// <paramref name="minimumScored"/> records of the dataset against its current training data
    /// (a <see cref="RecommendationPage.Stale"/> page does not count), and returns that first page.
    /// Scoring runs in the background after each ingest (debounced), so call this after
    /// <see cref="FlushAsync"/> when a program needs the ranking of what it just logged.
    /// </summary>
    /// <exception cref="TimeoutException">Fewer records were scored within <paramref name="timeout"/>.</exception>
    /// <exception cref="ChromaException">NotFound for an unknown set; FailedPrecondition when, at the timeout, the set still has no training data.</exception>
    public async Task<RecommendationPage> WaitForRecommendationsAsync(
        string setId,
        long minimumScored,
        TimeSpan timeout,
        RecommendationQuery? query = null,
        CancellationToken cancellationToken = default)
    {
        var deadline = _time.GetUtcNow() + timeout;
        while (true)
        {
            RecommendationPage? page = null;
            try
            {
                page = await GetRecommendationsAsync(setId, query, cancellationToken).ConfigureAwait(false);
                if (page.ScoredRecords >= minimumScored && !page.Stale)
                {
                    return page;
                }
            }
            catch (ChromaException ex) when (ex.StatusCode == StatusCode.FailedPrecondition && _time.GetUtcNow() < deadline)
            {
                // Training data may still be on its way (its batch not yet flushed or scored): keep waiting.
            }

            if (_time.GetUtcNow() >= deadline)
            {
                throw new TimeoutException(
                    $"Embedding set '{setId}' had {page?.ScoredRecords ?? 0} scored records (pending {page?.PendingRecords ?? 0}) after {timeout}; waited for {minimumScored}.");
            }

            await Task.Delay(RecommendationPollInterval, _time, cancellationToken).ConfigureAwait(false);
        }
    }

    private static ChromaRecommendation ToRecommendation(Recommendation item) => new(
        new ChromaRecord(item.Record),
        item.Score,
        [.. item.Signals.Select(s => new RecommendationSignal(s.Signal, s.Value, s.Percentile, s.PValue))],
        [.. item.Reasons],
        [.. item.DuplicateIds]);

    private static Protocol.V1.RecommendationStrategy ToProtocol(RecommendationStrategy strategy) => strategy switch
    {
        RecommendationStrategy.Balanced => Protocol.V1.RecommendationStrategy.Balanced,
        RecommendationStrategy.OutOfDistribution => Protocol.V1.RecommendationStrategy.OutOfDistribution,
        RecommendationStrategy.Uncertainty => Protocol.V1.RecommendationStrategy.Uncertainty,
        _ => throw new ArgumentOutOfRangeException(nameof(strategy), strategy, "Unknown recommendation strategy."),
    };
}
