namespace Chroma;

/// <summary>One page of recommendations, with how fresh the ranking is.</summary>
public sealed class RecommendationPage
{
    /// <summary>The recommendations, best first.</summary>
    public required IReadOnlyList<ChromaRecommendation> Items { get; init; }

    /// <summary>When the server last finished scoring the set, or <see langword="null"/> (the default) before its first pass.</summary>
    public DateTimeOffset? ComputedAt { get; init; }

    /// <summary>Records of the dataset the ranking covers.</summary>
    public required long ScoredRecords { get; init; }

    /// <summary>Records of the dataset stored but not scored yet (a pass is scheduled).</summary>
    public required long PendingRecords { get; init; }

    /// <summary>Entries in the whole ranking (a lower bound while the server has ranked only the first pages).</summary>
    public required long TotalResults { get; init; }

    /// <summary>The token for the next page, or <see langword="null"/> (the default) on the last page.</summary>
    public string? NextPageToken { get; init; }

    /// <summary>Gets the highest store sequence of the set the ranking covers (-1 before the server's first scoring pass since its start ended).</summary>
    public long CoveredThroughSequence { get; init; }

    /// <summary>Gets the highest sequence the server had acknowledged in the set when it answered.</summary>
    public long LatestSequence { get; init; }

    /// <summary>Gets whether the ranking covers what the query waited for (always <see langword="true"/> when it did not wait).</summary>
    public bool CoversRequest { get; init; } = true;

    /// <summary>
    /// Gets whether the ranking was scored against training data that has changed since (or the
    /// server is still reading it back after a restart): it stays served until a new scoring pass
    /// replaces it, so a ranking never disappears; <see cref="PendingRecords"/> then counts every
    /// record. The default value is <see langword="false"/>.
    /// </summary>
    public bool Stale { get; init; }

    /// <summary>
    /// Gets why the set's last scoring pass failed, or <see langword="null"/> (the default) when it succeeded or none
    /// ran: the page then serves the ranking of the last pass that succeeded, and a query that waited gets
    /// <see cref="CoversRequest"/> <see langword="false"/> as soon as the pass it waited for fails.
    /// </summary>
    public ScoringFailure? LastScoringFailure { get; init; }
}

/// <summary>One recommended record and why it is there.</summary>
public sealed class ChromaRecommendation
{
    /// <summary>The record.</summary>
    public required ChromaRecord Record { get; init; }

    /// <summary>
    /// Combined score under the strategy: the weighted mean of the signals' <c>-log10 p</c> (3 reads "one in a thousand"),
    /// under balanced and out-of-distribution plus part of what the production-shift signal's lead surprise (its
    /// <c>-log10 p</c> against the stream's bulk) exceeds both that mean and 1 by:
    /// <c>m + lead * max(0, s - max(m, 1))</c>, where lead is 1 under out-of-distribution and, under balanced,
    /// <c>(1 - 10^(1 - s))^2</c>, from 0 at 1 towards 1 (the server's <c>SignalCombiner</c>).
    /// </summary>
    public required double Score { get; init; }

    /// <summary>Every signal the record has, raw and calibrated.</summary>
    public required IReadOnlyList<RecommendationSignal> Signals { get; init; }

    /// <summary>Short human-readable reasons, most important first.</summary>
    public required IReadOnlyList<string> Reasons { get; init; }

    /// <summary>
    /// Ids of records collapsed into this one as near-duplicates, highest score first: at most the server's
    /// <c>Chroma:Recommendations:MaxDuplicateIdsPerEntry</c> of them (1,000 by default), so a flood does not make one
    /// entry larger than a message may be. <see cref="DuplicateCount"/> counts them all.
    /// </summary>
    public required IReadOnlyList<string> DuplicateIds { get; init; }

    /// <summary>
    /// Gets how many records collapsed into this one as near-duplicates, those beyond <see cref="DuplicateIds"/>
    /// included (never less than its count; from a server that predates the count, the count of the ids).
    /// </summary>
    public int DuplicateCount { get; init; }

    /// <summary>Gets the record's 1-based position in plain score order under the strategy (0 when the server did not say): how far diversity moved it.</summary>
    public int ScoreRank { get; init; }

    /// <summary>The signal named <paramref name="name"/> (e.g. <c>"mahalanobis"</c>), or <see langword="null"/>.</summary>
    /// <param name="name">The signal name.</param>
    /// <returns>The signal, or <see langword="null"/> when the record has none of that name.</returns>
    public RecommendationSignal? Signal(string name) =>
        Signals.FirstOrDefault(s => string.Equals(s.Name, name, StringComparison.Ordinal));
}

/// <summary>One signal of a recommendation.</summary>
public sealed class RecommendationSignal
{
    /// <summary><c>mahalanobis</c>, <c>relative_mahalanobis</c>, <c>knn_distance</c>, <c>feature_norm</c>, <c>production_shift</c>, <c>boundary</c>, <c>entropy</c>, <c>margin</c> or <c>least_confidence</c>.</summary>
    public required string Name { get; init; }

    /// <summary>The raw value (a distance, a share, an entropy in nats...).</summary>
    public required double Value { get; init; }

    /// <summary>Share of held-out training data less unusual than this record (0..1).</summary>
    public required double Percentile { get; init; }

    /// <summary>Upper-tail p-value the combined score uses.</summary>
    public required double PValue { get; init; }

    /// <summary>
    /// <c>production_shift</c> only: the p-value of the same classifier logit against the bulk of the production
    /// stream rather than the training data, which the combined score's production-shift lead uses; null for the other
    /// signals and for records scored before the server reported it.
    /// </summary>
    public double? LeadPValue { get; init; }

    /// <summary>
    /// The factor this signal's weight in the combined score is multiplied by: for <c>boundary</c> how far the training
    /// neighbours' disagreement with the predicted class reflects the model's errors rather than their own (0..1); for
    /// <c>entropy</c>, <c>margin</c> and <c>least_confidence</c> 2 minus that (they take the weight the boundary gives
    /// up); 1 for every other signal.
    /// </summary>
    public double WeightFactor { get; init; }
}
