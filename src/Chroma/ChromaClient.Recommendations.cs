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
    /// NotFound for an unknown set; FailedPrecondition while the set has fewer than 2 training records (labelled or
    /// not: with fewer than 2 labelled ones the server ranks against every training record as one unlabelled corpus);
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
            Diversity = ToProtocol(query.Diversity),
            IncludeReviewed = query.IncludeReviewed,
            WaitForAcknowledged = query.WaitForAcknowledged,
            WaitThroughSequence = query.WaitThroughSequence ?? 0,
            WaitTimeoutMs = WaitMilliseconds(query.WaitTimeout),
        };
        var serverWait = request.WaitForAcknowledged || request.WaitThroughSequence > 0
            ? TimeSpan.FromMilliseconds(request.WaitTimeoutMs == 0 ? DefaultServerWaitMs : request.WaitTimeoutMs)
            : TimeSpan.Zero;
        var response = await CallAsync("GetRecommendations", setId, o => _query.GetRecommendationsAsync(request, o), serverWait, cancellationToken).ConfigureAwait(false);
        return new RecommendationPage
        {
            Items = [.. response.Recommendations.Select(ToRecommendation)],
            ComputedAt = response.ComputedUnixMs == 0 ? null : DateTimeOffset.FromUnixTimeMilliseconds(response.ComputedUnixMs),
            ScoredRecords = response.ScoredRecords,
            PendingRecords = response.PendingRecords,
            TotalResults = response.TotalResults,
            NextPageToken = string.IsNullOrEmpty(response.NextPageToken) ? null : response.NextPageToken,
            CoveredThroughSequence = response.CoveredThroughSequence,
            LatestSequence = response.LatestSequence,
            CoversRequest = response.CoversRequest,
            Stale = response.Stale,
            LastScoringFailure = ScoringFailure.From(response.ScoringFailure),
        };
    }

    /// <summary>
    /// Flushes what this client logged, then asks the server for the ranking once it covers every
    /// record of the set acknowledged so far: no polling, the server answers as soon as its scoring
    /// pass ends (and starts a pending pass at once instead of after its debounce).
    /// </summary>
    /// <param name="setId">The embedding set.</param>
    /// <param name="timeout">The longest to wait for the server's pass (at most 10 minutes).</param>
    /// <param name="query">Strategy, filters and paging; its wait settings are replaced.</param>
    /// <param name="cancellationToken">Cancels the flush and the wait.</param>
    /// <exception cref="TimeoutException">The ranking did not cover everything within <paramref name="timeout"/>.</exception>
    /// <exception cref="ChromaException">
    /// NotFound for an unknown set; FailedPrecondition while the set has fewer than 2 training records (labelled or not);
    /// Internal, at once, when the server's scoring pass that would have covered everything failed (the message gives
    /// its <see cref="ScoringFailure"/>: why, when, how many in a row).
    /// </exception>
    public async Task<RecommendationPage> WaitForRecommendationsAsync(
        string setId, TimeSpan timeout, RecommendationQuery? query = null, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(timeout, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(timeout, MaxServerWait);
        var deadline = _time.GetUtcNow() + timeout;
        using (var flush = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
        {
            flush.CancelAfter(timeout);
            try
            {
                await FlushAsync(flush.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException ex) when (!cancellationToken.IsCancellationRequested)
            {
                // The timeout, not the caller, ended the flush: the documented TimeoutException.
                var stats = Statistics;
                throw new TimeoutException(
                    $"Embedding set '{setId}': the records this client logged were not delivered within {timeout} ({stats.Queued} still queued or in flight); the server is down or slow.", ex);
            }
        }

        var remaining = deadline - _time.GetUtcNow();
        var waiting = new RecommendationQuery
        {
            Strategy = query?.Strategy ?? RecommendationStrategy.Balanced,
            Dataset = query?.Dataset,
            Metadata = query?.Metadata,
            PageSize = query?.PageSize ?? 20,
            PageToken = query?.PageToken,
            AllScores = query?.AllScores ?? false,
            IncludeEmbeddings = query?.IncludeEmbeddings ?? false,
            Diversity = query?.Diversity ?? RecommendationDiversity.Default,
            IncludeReviewed = query?.IncludeReviewed ?? false,
            WaitForAcknowledged = true,
            WaitTimeout = remaining > TimeSpan.FromMilliseconds(1) ? remaining : TimeSpan.FromMilliseconds(1),
        };
        var page = await GetRecommendationsAsync(setId, waiting, cancellationToken).ConfigureAwait(false);
        if (!page.CoversRequest && page.LastScoringFailure is { } failure)
        {
            throw new ChromaException(StatusCode.Internal, FormattableString.Invariant(
                $"Embedding set '{setId}': the server's {failure}; the ranking covers sequence {page.CoveredThroughSequence} of {page.LatestSequence} (the set's next change starts the next pass)."));
        }

        return page.CoversRequest
            ? page
            : throw new TimeoutException(
                $"Embedding set '{setId}': the ranking covered sequence {page.CoveredThroughSequence} of {page.LatestSequence} after {timeout} (scored {page.ScoredRecords}, pending {page.PendingRecords}).");
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
    /// <exception cref="TimeoutException">
    /// Fewer records were scored within <paramref name="timeout"/> (the message gives the set's last
    /// <see cref="RecommendationPage.LastScoringFailure"/> when its last pass failed).
    /// </exception>
    /// <exception cref="ChromaException">
    /// NotFound for an unknown set; FailedPrecondition when, at the timeout, the set still has fewer than 2 training
    /// records (labelled or not).
    /// </exception>
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
                // Records still on their way may start a pass that succeeds, so a failure does not end the polling; it is said here.
                var failed = page?.LastScoringFailure is { } failure ? $" The server's {failure}." : string.Empty;
                throw new TimeoutException(
                    $"Embedding set '{setId}' had {page?.ScoredRecords ?? 0} scored records (pending {page?.PendingRecords ?? 0}) after {timeout}; waited for {minimumScored}.{failed}");
            }

            await Task.Delay(RecommendationPollInterval, _time, cancellationToken).ConfigureAwait(false);
        }
    }

    private static ChromaRecommendation ToRecommendation(Recommendation item) => new()
    {
        Record = new ChromaRecord(item.Record),
        Score = item.Score,
        Signals = [.. item.Signals.Select(s => new RecommendationSignal { Name = s.Signal, Value = s.Value, Percentile = s.Percentile, PValue = s.PValue, LeadPValue = s.LeadPValue > 0 ? s.LeadPValue : null, WeightFactor = s.WeightFactor })],
        Reasons = [.. item.Reasons],
        DuplicateIds = [.. item.DuplicateIds],

        // A server before duplicate_count sends 0 and every id.
        DuplicateCount = Math.Max(item.DuplicateCount, item.DuplicateIds.Count),
        ScoreRank = item.ScoreRank,
    };

    private const int DefaultServerWaitMs = 30_000;
    private static readonly TimeSpan MaxServerWait = TimeSpan.FromMinutes(10);

    private static int WaitMilliseconds(TimeSpan? timeout)
    {
        if (timeout is not { } value)
        {
            return 0;
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(value, TimeSpan.Zero, nameof(RecommendationQuery.WaitTimeout));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(value, MaxServerWait, nameof(RecommendationQuery.WaitTimeout));
        return (int)Math.Max(1, Math.Ceiling(value.TotalMilliseconds));
    }

    private static Protocol.V1.Diversity ToProtocol(RecommendationDiversity diversity) => diversity switch
    {
        RecommendationDiversity.Default => Protocol.V1.Diversity.Default,
        RecommendationDiversity.Off => Protocol.V1.Diversity.Off,
        RecommendationDiversity.Strong => Protocol.V1.Diversity.Strong,
        _ => throw new ArgumentOutOfRangeException(nameof(diversity), diversity, "Unknown recommendation diversity."),
    };

    private static Protocol.V1.RecommendationStrategy ToProtocol(RecommendationStrategy strategy) => strategy switch
    {
        RecommendationStrategy.Balanced => Protocol.V1.RecommendationStrategy.Balanced,
        RecommendationStrategy.OutOfDistribution => Protocol.V1.RecommendationStrategy.OutOfDistribution,
        RecommendationStrategy.Uncertainty => Protocol.V1.RecommendationStrategy.Uncertainty,
        RecommendationStrategy.Labeling => Protocol.V1.RecommendationStrategy.Labeling,
        _ => throw new ArgumentOutOfRangeException(nameof(strategy), strategy, "Unknown recommendation strategy."),
    };
}
