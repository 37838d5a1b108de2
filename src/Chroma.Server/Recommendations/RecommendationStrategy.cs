namespace Chroma.Server.Recommendations;

/// <summary>What the ranking favours (mirrors <c>chroma.v1.RecommendationStrategy</c>).</summary>
internal enum RecommendationStrategy
{
    /// <summary>Out-of-distribution and uncertainty signals weigh the same. The default.</summary>
    Balanced = 0,

    /// <summary>Far from the training data first (Mahalanobis, kNN distance).</summary>
    OutOfDistribution = 1,

    /// <summary>Ambiguous predictions first (neighbour disagreement, class probabilities).</summary>
    Uncertainty = 2,

    /// <summary>
    /// What to label next to improve the model: a batch of typical records that represents the traffic within the training
    /// distribution (<see cref="LabelingSelector"/>), records far outside it (review material, not training material)
    /// last; its score is the uncertainty signals minus the distance excess (see <see cref="SignalCombiner"/>).
    /// </summary>
    Labeling = 3,
}
