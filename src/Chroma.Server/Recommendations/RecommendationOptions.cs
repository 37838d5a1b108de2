namespace Chroma.Server.Recommendations;

/// <summary>Settings of the recommendation engine. Every default is documented on its property.</summary>
internal sealed record RecommendationOptions
{
    /// <summary>k for the kNN-distance and boundary signals. The default value is 10.</summary>
    public int NeighborCount { get; init; } = 10;

    /// <summary>
    /// Share of each class's training records held out of the fit and scored like production
    /// records to calibrate the signals (every class keeps at least one fitted record; at least one
    /// record is held out overall). The default value is 0.15.
    /// </summary>
    public double HoldOutFraction { get; init; } = 0.15;

    /// <summary>
    /// Most training records held out for calibration, whatever <see cref="HoldOutFraction"/> says:
    /// percentiles need a few thousand reference values, not hundreds of thousands, and each one
    /// costs a neighbour search at every fit. The default value is 10 000.
    /// </summary>
    public int MaxHeldOut { get; init; } = 10_000;

    /// <summary>Seed of the hold-out split, so a refit on the same training data is identical. The default value is 17.</summary>
    public int Seed { get; init; } = 17;

    /// <summary>
    /// Two records are near-duplicates when the Euclidean distance between their L2-normalised
    /// embeddings is at most this (0.05 is a cosine similarity of about 0.9988). The default value is 0.05.
    /// </summary>
    public double NearDuplicateThreshold { get; init; } = 0.05;

    /// <summary>
    /// How many top-scored records the ranking de-duplicates and spreads out (k-center greedy is
    /// quadratic in it); at least the number of recommendations asked for. The default value is 1000.
    /// </summary>
    public int CandidatePoolSize { get; init; } = 1000;

    /// <summary>
    /// Weight of spread against score in the k-center greedy pick, 0..1 (0 = rank by score only,
    /// 1 = pure k-center). The default value is 0.3.
    /// </summary>
    public double DiversityWeight { get; init; } = 0.3;

    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> naming the first setting out of range.</summary>
    public void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(NeighborCount, 1, nameof(NeighborCount));
        if (!(HoldOutFraction > 0 && HoldOutFraction < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(HoldOutFraction), HoldOutFraction, "HoldOutFraction must be between 0 and 1 (exclusive).");
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(MaxHeldOut, 1, nameof(MaxHeldOut));
        if (!(NearDuplicateThreshold >= 0))
        {
            throw new ArgumentOutOfRangeException(nameof(NearDuplicateThreshold), NearDuplicateThreshold, "NearDuplicateThreshold must be >= 0.");
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(CandidatePoolSize, 1, nameof(CandidatePoolSize));
        if (!(DiversityWeight >= 0 && DiversityWeight <= 1))
        {
            throw new ArgumentOutOfRangeException(nameof(DiversityWeight), DiversityWeight, "DiversityWeight must be between 0 and 1.");
        }
    }
}
