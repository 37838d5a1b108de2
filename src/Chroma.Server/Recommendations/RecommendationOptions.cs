namespace Chroma.Server.Recommendations;

/// <summary>
/// Settings of the recommendation engine (section <c>Chroma:Recommendations</c>, e.g.
/// <c>Chroma__Recommendations__NeighborCount</c>): the neighbour signals, the calibration hold-out, near-duplicate
/// collapsing and the spread of the ranked list. Every default is documented on its property.
/// </summary>
public sealed class RecommendationOptions
{
    /// <summary>The configuration section, below <c>Chroma</c>.</summary>
    public const string SectionName = "Recommendations";

    /// <summary>Gets or sets k for the kNN-distance and boundary signals (at least 1). The default value is 10.</summary>
    public int NeighborCount { get; set; } = 10;

    /// <summary>
    /// Gets or sets the share (between 0 and 1, exclusive) of each class's training records held out of the fit and scored like production
    /// records to calibrate the signals (every class keeps at least one fitted record; at least one
    /// record is held out overall). The default value is 0.15.
    /// </summary>
    public double HoldOutFraction { get; set; } = 0.15;

    /// <summary>
    /// Gets or sets the most training records held out for calibration (at least 1), whatever <see cref="HoldOutFraction"/> says:
    /// percentiles need a few thousand reference values, not hundreds of thousands, and each one
    /// costs a neighbour search at every fit. The default value is 10 000.
    /// </summary>
    public int MaxHeldOut { get; set; } = 10_000;

    /// <summary>
    /// Gets or sets the most training rows (at least 1) in the neighbour search of the kNN-distance and boundary signals. Above it the search
    /// holds a seeded sample of this many rows, every class in proportion to its size (at least one row each), so
    /// the fit's neighbour-graph build and its memory stay bounded however large the training set grows (class
    /// means and covariance still use every fitted row); neighbour reasons are then counted within the sample, so
    /// <c>FindNearest</c> on the training dataset reproduces them only up to this size. The default value is 100 000.
    /// </summary>
    public int MaxNeighborRows { get; set; } = 100_000;

    /// <summary>
    /// Gets or sets how many production rows a set needs (at least 1) before its production-shift signal (a classifier
    /// that tells production rows from training rows) is fitted; it is refitted whenever production has doubled since.
    /// With few rows the classifier learns mostly how the model's own training rows differ from any new input (a network
    /// fits its training data more closely), which on the <c>ood</c> benchmark made rankings of 200 production rows
    /// worse, so it waits for enough rows to learn a shift from. The default value is 1,000.
    /// </summary>
    public int ProductionShiftMinimumRows { get; set; } = 1_000;

    /// <summary>Gets or sets the seed of the hold-out split, so a refit on the same training data is identical. The default value is 17.</summary>
    public int Seed { get; set; } = 17;

    /// <summary>
    /// Gets or sets the distance (0 or more) at which two records are near-duplicates: they are when the Euclidean distance between their L2-normalised
    /// embeddings is at most this (0.05 is a cosine similarity of about 0.9988). The default value is 0.05.
    /// </summary>
    public double NearDuplicateThreshold { get; set; } = 0.05;

    /// <summary>
    /// Gets or sets how far apart in score order (at least 1) two records may lie and still collapse as near-duplicates:
    /// each record is compared with this many records scored just above it, so the pairwise work is this much per
    /// record ranked (a chain of near-copies, such as a flood, collapses however long it is). It bounds the work, not
    /// the ranking, which holds every record. The default value is 1000.
    /// </summary>
    public int CandidatePoolSize { get; set; } = 1000;

    /// <summary>
    /// Gets or sets the most near-duplicate ids (0 or more) listed with one entry of the ranked list: the highest-scored
    /// members of its group after the entry's own record. The entry's duplicate count still counts every member, so a
    /// flood of 100,000 copies is one entry of this many ids (about 40 KB at 1,000 ids of 40 characters) rather than a
    /// message beyond gRPC's 4 MiB default receive limit. The default value is 1000.
    /// </summary>
    public int MaxDuplicateIdsPerEntry { get; set; } = 1000;

    /// <summary>
    /// Gets or sets the block size (at least 1) of the <see cref="Diversity.Default"/> list: positions [bW, bW + W) hold the records of
    /// score ranks [bW, bW + W), reordered for spread, so a list of whole blocks holds exactly the top records by score
    /// (near-duplicates collapsed) and no entry is more than W - 1 places from its score rank. The default value is 10.
    /// </summary>
    public int DiversityWindow { get; set; } = 10;

    /// <summary>Gets or sets the weight of score against novelty (0..1) in each <see cref="Diversity.Default"/> pick. The default value is 0.7.</summary>
    public double DiversityRelevance { get; set; } = 0.7;

    /// <summary>Gets or sets the block size of <see cref="Diversity.Strong"/> (at least 1). The default value is 50.</summary>
    public int StrongDiversityWindow { get; set; } = 50;

    /// <summary>Gets or sets the relevance weight of <see cref="Diversity.Strong"/> (0..1). The default value is 0.4.</summary>
    public double StrongDiversityRelevance { get; set; } = 0.4;

    /// <summary>The (window, relevance) of <paramref name="diversity"/>.</summary>
    internal (int Window, double Relevance) Spread(Diversity diversity) => diversity switch
    {
        Diversity.Off => (1, 1),
        Diversity.Strong => (StrongDiversityWindow, StrongDiversityRelevance),
        _ => (DiversityWindow, DiversityRelevance),
    };

    /// <summary>Copies these options.</summary>
    internal RecommendationOptions Clone() => (RecommendationOptions)MemberwiseClone();
}
