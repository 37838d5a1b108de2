namespace Chroma.Server.Recommendations;

/// <summary>
/// Variants of the labeling list that the <c>active-learning</c> benchmark compares with the default
/// (<see cref="LabelingSelector"/>); the default instance is the list the server serves. None is served: each measured
/// no better than the default on every constructed shift (tests/Chroma.Benchmarks/README.md, label efficiency).
/// </summary>
internal sealed class LabelingVariant
{
    /// <summary>The served list: every property at its default.</summary>
    public static LabelingVariant Default { get; } = new();

    /// <summary>
    /// Whether each pick's gain is weighed by how typical the candidate is of its neighbourhood (TypiClust's
    /// typicality, <see cref="NeighborhoodTypicality"/>). The default value is false.
    /// </summary>
    public bool Typicality { get; init; }

    /// <summary>
    /// Every how many picks one is a draw instead of the greedy's (the m-th, 2m-th, ...): the next candidate not yet
    /// taken in the order of a hash of the id (a density-proportional pick, as random sampling makes) or of
    /// uncertainty (<see cref="DrawUncertain"/>). The default value is 0 (never).
    /// </summary>
    public int DrawEvery { get; init; }

    /// <summary>
    /// Whether the draws take the candidates most uncertain first (<see cref="LabelingSelector.Uncertainty"/>; a
    /// coverage / uncertainty hybrid) instead of by id hash. The default value is false.
    /// </summary>
    public bool DrawUncertain { get; init; }

    /// <summary>
    /// Which records beyond the candidates also count as clients (the picks lower their distances too, a sample of
    /// them, while the picks stay among the candidates). The default value is null (none).
    /// </summary>
    public Func<ScoredRecord, bool>? CoverRule { get; init; }

    /// <summary>
    /// Unit embeddings (row-major, the set's width) of records a reviewer dismissed as out of scope, or null for none:
    /// a record nearer to one of them than to its nearest training row is then no candidate (the labeling loop's
    /// rounds: a foreign region found once is not labeled again), or with <see cref="DismissedAsCovered"/> they count
    /// as covered instead. The default value is null.
    /// </summary>
    public float[]? Dismissed { get; init; }

    /// <summary>
    /// Whether the <see cref="Dismissed"/> records count as facilities in place, as the training rows do, instead of
    /// excluding their neighbours: a
    /// candidate's distance starts at its nearest training row or dismissed record, whichever is nearer, so the
    /// neighbourhood of a dismissed record is worth little to the picks. The default value is false.
    /// </summary>
    public bool DismissedAsCovered { get; init; }

    /// <summary>
    /// A quantile (0 to 1) of the clients' distances to the training rows at which each such distance is capped before
    /// the first pick (a truncated facility location: the farthest candidates, often foreign inputs just within the
    /// distance allowance, pull the picks no harder than the quantile's distance), or null for no cap. The default
    /// value is null.
    /// </summary>
    public double? ReachQuantile { get; init; }
}
