namespace Chroma;

/// <summary>
/// What an application asks a Chroma server: sets, records, neighbours, recommendations and the labeling loop.
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

    /// <summary>Finds the records nearest to <paramref name="embedding"/>, closest first, as <paramref name="query"/> asks (k, dataset, breadth or exactness).</summary>
    /// <param name="setId">The set id.</param>
    /// <param name="embedding">The query vector (the set's dimension, finite values).</param>
    /// <param name="query">How many, from which dataset, how broad or exact.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The neighbours, closest first, in the set's metric.</returns>
    Task<IReadOnlyList<ChromaNeighbor>> FindNearestAsync(string setId, ReadOnlyMemory<float> embedding, NearestQuery query, CancellationToken cancellationToken);

    /// <summary>Finds the records nearest to a stored record (the record itself first), as <paramref name="query"/> asks.</summary>
    /// <param name="setId">The set id.</param>
    /// <param name="recordId">The stored record whose embedding is the query.</param>
    /// <param name="query">How many, from which dataset, how broad or exact.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The neighbours, closest first.</returns>
    Task<IReadOnlyList<ChromaNeighbor>> FindNearestToRecordAsync(string setId, string recordId, NearestQuery query, CancellationToken cancellationToken);

    /// <summary>
    /// The first page of the ranking once it covers every record of the set acknowledged before the call (what this
    /// client logged is flushed first): the server answers when its scoring pass ends, no polling.
    /// </summary>
    /// <param name="setId">The set id.</param>
    /// <param name="timeout">The longest to wait (at most 10 minutes).</param>
    /// <param name="query">Strategy, filters and paging; its wait settings are replaced.</param>
    /// <param name="cancellationToken">Cancels the wait.</param>
    /// <returns>The page.</returns>
    /// <exception cref="TimeoutException">The ranking did not cover everything within <paramref name="timeout"/>.</exception>
    /// <exception cref="ChromaException">
    /// Internal, at once, when the server's scoring pass that would have covered everything failed (the message gives its
    /// <see cref="ScoringFailure"/>).
    /// </exception>
    Task<RecommendationPage> WaitForRecommendationsAsync(string setId, TimeSpan timeout, RecommendationQuery? query = null, CancellationToken cancellationToken = default);

    /// <summary>Records labels on production records; each also marks its record reviewed.</summary>
    /// <param name="setId">The set id.</param>
    /// <param name="labels">The records and their labels (optional notes).</param>
    /// <param name="reviewer">Who labeled them.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>
    /// How many records were written: every record named, also one that had this label already (its reviewer and time
    /// are updated, and its history records the call, so a second reviewer's confirmation shows).
    /// </returns>
    Task<long> LabelAsync(string setId, IEnumerable<RecordLabel> labels, string reviewer, CancellationToken cancellationToken = default);

    /// <summary>Marks production records reviewed or dismissed (or back to unreviewed).</summary>
    /// <param name="setId">The set id.</param>
    /// <param name="ids">The records.</param>
    /// <param name="state">The new review state.</param>
    /// <param name="reviewer">Who reviewed them.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>
    /// How many records were written: every record named, also one already in <paramref name="state"/> (its reviewer and
    /// time are updated, and its history records the call).
    /// </returns>
    Task<long> SetReviewStateAsync(string setId, IEnumerable<string> ids, ReviewState state, string reviewer, CancellationToken cancellationToken = default);

    /// <summary>Copies labeled production records into training with their reviewer's label (every pending label when <paramref name="ids"/> is null).</summary>
    /// <param name="setId">The set id.</param>
    /// <param name="promotedBy">Who promoted them (kept in the audit trail).</param>
    /// <param name="ids">Only these records, or <see langword="null"/> for every label not in training yet.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The training copies made and how many were already in training.</returns>
    Task<LabelPromotion> PromoteLabelsAsync(string setId, string promotedBy, IEnumerable<string>? ids = null, CancellationToken cancellationToken = default);

    /// <summary>Every labeled production record of the set with its review, in ingest order.</summary>
    /// <param name="setId">The set id.</param>
    /// <param name="includeEmbeddings">Whether the records carry their embeddings.</param>
    /// <param name="cancellationToken">Cancels the enumeration.</param>
    /// <returns>The labeled records.</returns>
    IAsyncEnumerable<ChromaRecord> GetLabeledRecordsAsync(string setId, bool includeEmbeddings = true, CancellationToken cancellationToken = default);

    /// <summary>The review audit trail of the set, or of one record, oldest first.</summary>
    /// <param name="setId">The set id.</param>
    /// <param name="recordId">One record's trail, or <see langword="null"/> for the whole set.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The events.</returns>
    Task<IReadOnlyList<ReviewEvent>> GetReviewHistoryAsync(string setId, string? recordId = null, CancellationToken cancellationToken = default);
}
