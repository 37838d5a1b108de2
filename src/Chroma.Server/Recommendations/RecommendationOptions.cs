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

    /// <summary>
    /// Most training rows in the neighbour search of the kNN-distance and boundary signals. Above it the search
    /// holds a seeded sample of this many rows, every class in proportion to its size (at least one row each), so
    /// the fit's neighbour-graph build and its memory stay bounded however large the training set grows (class
    /// means and covariance still use every fitted row); neighbour reasons are then counted within the sample, so
    /// <c>FindNearest</c> on the training dataset reproduces them only up to this size. The default value is 100 000.
    /// </summary>
    public int MaxNeighborRows { get; init; } = 100_000;

    /// <summary>Seed of the hold-out split, so a refit on the same training data is identical. The default value is 17.</summary>
    public int Seed { get; init; } = 17;

    /// <summary>
    /// Two records are near-duplicates when the Euclidean distance between their L2-normalised
    /// embeddings is at most this (0.05 is a cosine similarity of about 0.9988). The default value is 0.05.
    /// </summary>
    public double NearDuplicateThreshold { get; init; } = 0.05;

    /// <summary>
    /// How many top-scored records the ranking de-duplicates (pairwise, so quadratic in it); at least the number of recommendations asked for. The default value is 1000.
    /// </summary>
    public int CandidatePoolSize { get; init; } = 1000;

    /// <summary>
    /// How many of the best remaining records (by score) each pick of the <see cref="Diversity.Default"/>
    /// list considers: entry t of the list has score rank at most t + window - 1, so spreading never
    /// reaches far down the score order. The default value is 10.
    /// </summary>
    public int DiversityWindow { get; init; } = 10;

    /// <summary>Weight of score against novelty (0..1) in each <see cref="Diversity.Default"/> pick. The default value is 0.7.</summary>
    public double DiversityRelevance { get; init; } = 0.7;

    /// <summary>The window of <see cref="Diversity.Strong"/>. The default value is 50.</summary>
    public int StrongDiversityWindow { get; init; } = 50;

    /// <summary>The relevance weight of <see cref="Diversity.Strong"/>. The default value is 0.4.</summary>
    public double StrongDiversityRelevance { get; init; } = 0.4;

    /// <summary>The (window, relevance) of <paramref name="diversity"/>.</summary>
    public (int Window, double Relevance) Spread(Diversity diversity) => diversity switch
    {
        Diversity.Off => (1, 1),
        Diversity.Strong => (StrongDiversityWindow, StrongDiversityRelevance),
        _ => (DiversityWindow, DiversityRelevance),
    };

    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> naming the first setting out of range.</summary>
    public void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(NeighborCount, 1, nameof(NeighborCount));
        if (!(HoldOutFraction > 0 && HoldOutFraction < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(HoldOutFraction), HoldOutFraction, "HoldOutFraction must be between 0 and 1 (exclusive).");
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(MaxHeldOut, 1, nameof(MaxHeldOut));
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxNeighborRows, 1, nameof(MaxNeighborRows));
        if (!(NearDuplicateThreshold >= 0))
        {
            throw new ArgumentOutOfRangeException(nameof(NearDuplicateThreshold), NearDuplicateThreshold, "NearDuplicateThreshold must be >= 0.");
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(CandidatePoolSize, 1, nameof(CandidatePoolSize));
        ArgumentOutOfRangeException.ThrowIfLessThan(DiversityWindow, 1, nameof(DiversityWindow));
        ArgumentOutOfRangeException.ThrowIfLessThan(StrongDiversityWindow, 1, nameof(StrongDiversityWindow));
        if (!(DiversityRelevance >= 0 && DiversityRelevance <= 1))
        {
            throw new ArgumentOutOfRangeException(nameof(DiversityRelevance), DiversityRelevance, "DiversityRelevance must be between 0 and 1.");
        }

        if (!(StrongDiversityRelevance >= 0 && StrongDiversityRelevance <= 1))
        {
            throw new ArgumentOutOfRangeException(nameof(StrongDiversityRelevance), StrongDiversityRelevance, "StrongDiversityRelevance must be between 0 and 1.");
        }
    }
}
