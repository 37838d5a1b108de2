namespace Chroma.Server.Recommendations;

/// <summary>
/// Turns a record's calibrated signals into one score for a <see cref="RecommendationStrategy"/>:
/// the weighted mean of the signals' surprises <c>-log10 p</c>.
/// </summary>
/// <remarks>
/// <code>
/// score = sum_s w_s (-log10 p_s) / sum_s w_s     over the signals the record has
/// </code>
/// A score of 3 reads as "on average one in a thousand". Weights per strategy (the three
/// probability signals are near-copies of each other, so they share one vote):
/// <code>
///                      Mahalanobis  kNN   Boundary  Entropy  Margin  LeastConfidence
/// Balanced                 1         1       1        1/3      1/3       1/3
/// OutOfDistribution        1         1      0.1      0.1/3    0.1/3     0.1/3
/// Uncertainty             0.1       0.1      1        1/3      1/3       1/3
/// </code>
/// A weighted mean rather than Fisher's sum: the signals are correlated (Mahalanobis and kNN
/// distance measure the same thing two ways), so Fisher's independence assumption would overstate
/// the evidence, and a mean keeps records with and without probabilities on one scale.
/// </remarks>
internal static class SignalCombiner
{
    /// <summary>The weight of <paramref name="kind"/> under <paramref name="strategy"/> (see the remarks).</summary>
    public static double Weight(RecommendationStrategy strategy, SignalKind kind)
    {
        var (distance, uncertainty) = strategy switch
        {
            RecommendationStrategy.Balanced => (1.0, 1.0),
            RecommendationStrategy.OutOfDistribution => (1.0, 0.1),
            RecommendationStrategy.Uncertainty => (0.1, 1.0),
            _ => throw new ArgumentOutOfRangeException(nameof(strategy), strategy, "Unknown strategy."),
        };

        return kind switch
        {
            SignalKind.Mahalanobis or SignalKind.KnnDistance => distance,
            SignalKind.Boundary => uncertainty,
            SignalKind.Entropy or SignalKind.Margin or SignalKind.LeastConfidence => uncertainty / 3,
            _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "Unknown signal."),
        };
    }

    /// <summary>The combined score of <paramref name="signals"/> (0 when there are none).</summary>
    public static double Score(IReadOnlyList<SignalScore> signals, RecommendationStrategy strategy)
    {
        ArgumentNullException.ThrowIfNull(signals);
        double weighted = 0, total = 0;
        foreach (var signal in signals)
        {
            var weight = Weight(strategy, signal.Kind);
            weighted += weight * signal.Surprise;
            total += weight;
        }

        return total > 0 ? weighted / total : 0;
    }
}
