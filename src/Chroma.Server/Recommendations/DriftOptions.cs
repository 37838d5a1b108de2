namespace Chroma.Server.Recommendations;

/// <summary>
/// How each scoring pass measures a set's drift (section <c>Chroma:Drift</c>, e.g. <c>Chroma__Drift__Window</c>): the
/// most recent production records are compared with the training data by an MMD test (<see cref="MmdDriftDetector"/>).
/// </summary>
public sealed class DriftOptions
{
    /// <summary>The configuration section, below <c>Chroma</c>.</summary>
    public const string SectionName = "Drift";

    /// <summary>
    /// Gets or sets how many of the most recent production records each scoring pass compares with the training data
    /// (2..100 000). The default value is 500.
    /// </summary>
    public int Window { get; set; } = 500;

    /// <summary>
    /// Gets or sets how many records are sampled (without replacement) from each side (2..100 000); the cost grows with
    /// its square. The default value is 500.
    /// </summary>
    public int SampleSize { get; set; } = 500;

    /// <summary>
    /// Gets or sets how many label permutations give the p-value (1..100 000; its resolution is 1 / (Permutations + 1)).
    /// The default value is 200.
    /// </summary>
    public int Permutations { get; set; } = 200;

    /// <summary>
    /// Gets or sets how far apart in time the kept drift measurements lie (0 to 1 day; 0 keeps every one). Each scoring
    /// pass that read production records measures drift, and the newest point of the history is always that latest
    /// measurement; it replaces the newest point until that point is this long after the one before it. A set scored
    /// every few seconds so keeps its hundred points over hours instead of minutes. The default value is one minute.
    /// </summary>
    public TimeSpan HistorySpacing { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>Gets or sets the seed of the sampling and the permutations. The default value is 17.</summary>
    public int Seed { get; set; } = 17;

    /// <summary>Copies these options.</summary>
    internal DriftOptions Clone() => (DriftOptions)MemberwiseClone();
}
