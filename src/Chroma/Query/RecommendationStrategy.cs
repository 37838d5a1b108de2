namespace Chroma;

/// <summary>What a recommendation ranking favours.</summary>
public enum RecommendationStrategy
{
    /// <summary>Out-of-distribution and uncertainty signals weigh the same. The default.</summary>
    Balanced = 0,

    /// <summary>Inputs far from the training data first (Mahalanobis and kNN distance).</summary>
    OutOfDistribution = 1,

    /// <summary>Ambiguous predictions first (neighbours that disagree, low or split class probabilities).</summary>
    Uncertainty = 2,
}
