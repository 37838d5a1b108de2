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

    /// <summary>
    /// What to label next to improve the model: ambiguous predictions of the kind the model was trained on first;
    /// inputs far outside the training data (review material, not training material) are pushed down.
    /// </summary>
    Labeling = 3,
}
