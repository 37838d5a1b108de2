namespace Chroma;

/// <summary>
/// What an application asks a Chroma server: sets, records, neighbours and recommendations.
/// <see cref="ChromaClient"/> implements it; depend on this interface to replace the server with a fake or a mock in
/// tests. Every method surfaces a cancelled <c>cancellationToken</c> as <see cref="OperationCanceledException"/> and a
/// server refusal as <see cref="ChromaException"/>.
/// </summary>
public interface IChromaQueryClient
{
    /// <summary>Lists every embedding set the server holds.</summary>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The sets.</returns>
    Task<IReadOnlyList<EmbeddingSetInfo>> ListSetsAsync(CancellationToken cancellationToken = default);

    /// <summary>Reads one page of a set's records.</summary>
    /// <param name="setId">The set id (<c>model/version/layer</c>).</param>
    /// <param name="query">Filters and paging, or <see langword="null"/> for the first 100 records.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The page.</returns>
    Task<RecordPage> GetRecordsAsync(string setId, RecordQuery? query = null, CancellationToken cancellationToken = default);

    /// <summary>Counts a set's records, optionally in one dataset and with matching metadata.</summary>
    /// <param name="setId">The set id.</param>
    /// <param name="dataset">Only this dataset, or <see langword="null"/> for all.</param>
    /// <param name="metadata">Only records with all these metadata entries, or <see langword="null"/>.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The count.</returns>
    Task<long> CountAsync(string setId, string? dataset = null, IReadOnlyDictionary<string, string>? metadata = null, CancellationToken cancellationToken = default);

    /// <summary>The <paramref name="k"/> records nearest to <paramref name="embedding"/>.</summary>
    /// <param name="setId">The set id.</param>
    /// <param name="embedding">The query vector.</param>
    /// <param name="k">How many neighbours.</param>
    /// <param name="dataset">Only this dataset, or <see langword="null"/> for all.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The neighbours, nearest first.</returns>
    Task<IReadOnlyList<ChromaNeighbor>> FindNearestAsync(string setId, ReadOnlyMemory<float> embedding, int k = 10, string? dataset = null, CancellationToken cancellationToken = default);

    /// <summary>The <paramref name="k"/> records nearest to a stored record.</summary>
    /// <param name="setId">The set id.</param>
    /// <param name="recordId">The stored record whose embedding is the query.</param>
    /// <param name="k">How many neighbours.</param>
    /// <param name="dataset">Only this dataset, or <see langword="null"/> for all.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The neighbours, nearest first.</returns>
    Task<IReadOnlyList<ChromaNeighbor>> FindNearestToRecordAsync(string setId, string recordId, int k = 10, string? dataset = null, CancellationToken cancellationToken = default);

    /// <summary>Deletes records by id.</summary>
    /// <param name="setId">The set id.</param>
    /// <param name="ids">The record ids.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>How many records were deleted.</returns>
    Task<long> DeleteAsync(string setId, IEnumerable<string> ids, CancellationToken cancellationToken = default);

    /// <summary>Adds or replaces metadata entries on records.</summary>
    /// <param name="setId">The set id.</param>
    /// <param name="ids">The record ids.</param>
    /// <param name="tags">The entries to set.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>How many records were updated.</returns>
    Task<long> TagAsync(string setId, IEnumerable<string> ids, IReadOnlyDictionary<string, string> tags, CancellationToken cancellationToken = default);

    /// <summary>One page of the set's recommendations: the records most worth a human's look.</summary>
    /// <param name="setId">The set id.</param>
    /// <param name="query">Strategy, filters and paging, or <see langword="null"/> for the defaults.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The page.</returns>
    Task<RecommendationPage> GetRecommendationsAsync(string setId, RecommendationQuery? query = null, CancellationToken cancellationToken = default);

    /// <summary>Every scored record of the set, page by page.</summary>
    /// <param name="setId">The set id.</param>
    /// <param name="strategy">How signals are combined.</param>
    /// <param name="dataset">Only this dataset, or <see langword="null"/> for production.</param>
    /// <param name="cancellationToken">Cancels the enumeration.</param>
    /// <returns>The scored records, best first.</returns>
    IAsyncEnumerable<ChromaRecommendation> GetAllScoresAsync(string setId, RecommendationStrategy strategy = RecommendationStrategy.Balanced, string? dataset = null, CancellationToken cancellationToken = default);
}
