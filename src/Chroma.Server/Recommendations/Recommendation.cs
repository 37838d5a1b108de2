namespace Chroma.Server.Recommendations;

/// <summary>One entry of the ranked list (maps onto <c>chroma.v1.Recommendation</c>).</summary>
/// <param name="Id">Record id: the top-scored member of its near-duplicate group.</param>
/// <param name="Score">Combined score under the strategy (<see cref="SignalCombiner"/>).</param>
/// <param name="Signals">Every signal, raw value and percentile.</param>
/// <param name="Reasons">Short human reasons, most important first.</param>
/// <param name="DuplicateIds">
/// Other members of the record's near-duplicate group, highest score first: the first
/// <see cref="RecommendationOptions.MaxDuplicateIdsPerEntry"/> of them (<see cref="DuplicateCount"/> counts them all).
/// </param>
internal sealed record Recommendation(
    string Id,
    double Score,
    IReadOnlyList<SignalScore> Signals,
    IReadOnlyList<string> Reasons,
    IReadOnlyList<string> DuplicateIds)
{
    /// <summary>
    /// Gets how many records collapsed into this one as near-duplicates, those beyond the ids listed in
    /// <see cref="DuplicateIds"/> included (at least its count).
    /// </summary>
    public int DuplicateCount { get; init; }

    /// <summary>Gets the record's 1-based position in plain score order among the ranked records (0 = not known).</summary>
    public int ScoreRank { get; init; }

    /// <summary>
    /// Gets the production-shift surprise against the stream's bulk that led <see cref="Score"/>
    /// (<see cref="ScoredRecord.ShiftLeadSurprise"/>), or null when the record has none.
    /// </summary>
    public double? ShiftLeadSurprise { get; init; }

    /// <summary>Gets the factor of the boundary signal's weight in <see cref="Score"/> (<see cref="ScoredRecord.BoundaryFactor"/>).</summary>
    public double BoundaryFactor { get; init; } = 1;
}
