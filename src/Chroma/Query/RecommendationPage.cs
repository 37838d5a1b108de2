namespace Chroma;

/// <summary>One page of recommendations, with how fresh the ranking is.</summary>
/// <param name="Items">The recommendations, best first.</param>
/// <param name="ComputedAt">When the server last finished scoring the set, or <see langword="null"/> before its first pass.</param>
/// <param name="ScoredRecords">Records of the dataset the ranking covers.</param>
/// <param name="PendingRecords">Records of the dataset stored but not scored yet (a pass is scheduled).</param>
/// <param name="TotalResults">Entries in the whole ranking (a lower bound while the server has ranked only the first pages).</param>
/// <param name="NextPageToken">The token for the next page, or <see langword="null"/> on the last page.</param>
public sealed record RecommendationPage(
    IReadOnlyList<ChromaRecommendation> Items,
    DateTimeOffset? ComputedAt,
    long ScoredRecords,
    long PendingRecords,
    long TotalResults,
    string? NextPageToken)
{
    /// <summary>
    /// Gets whether the ranking was scored against training data that has changed since (or the
    /// server is still reading it back after a restart): it stays served until a new scoring pass
    /// replaces it, so a ranking never disappears; <see cref="PendingRecords"/> then counts every
    /// record. The default value is <see langword="false"/>.
    /// </summary>
    public bool Stale { get; init; }
}

/// <summary>One recommended record and why it is there.</summary>
/// <param name="Record">The record.</param>
/// <param name="Score">Combined score under the strategy: the weighted mean of the signals' <c>-log10 p</c> (3 reads "one in a thousand").</param>
/// <param name="Signals">Every signal the record has, raw and calibrated.</param>
/// <param name="Reasons">Short human-readable reasons, most important first.</param>
/// <param name="DuplicateIds">Records collapsed into this one as near-duplicates.</param>
public sealed record ChromaRecommendation(
    ChromaRecord Record,
    double Score,
    IReadOnlyList<RecommendationSignal> Signals,
    IReadOnlyList<string> Reasons,
    IReadOnlyList<string> DuplicateIds)
{
    /// <summary>The signal named <paramref name="name"/> (e.g. <c>"mahalanobis"</c>), or <see langword="null"/>.</summary>
    public RecommendationSignal? Signal(string name) =>
        Signals.FirstOrDefault(s => string.Equals(s.Name, name, StringComparison.Ordinal));
}

/// <summary>One signal of a recommendation.</summary>
/// <param name="Name"><c>mahalanobis</c>, <c>knn_distance</c>, <c>boundary</c>, <c>entropy</c>, <c>margin</c> or <c>least_confidence</c>.</param>
/// <param name="Value">The raw value (a distance, a share, an entropy in nats...).</param>
/// <param name="Percentile">Share of held-out training data less unusual than this record (0..1).</param>
/// <param name="PValue">Upper-tail p-value the combined score uses.</param>
public sealed record RecommendationSignal(string Name, double Value, double Percentile, double PValue);
