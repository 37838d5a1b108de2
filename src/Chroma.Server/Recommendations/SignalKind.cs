namespace Chroma.Server.Recommendations;

/// <summary>The per-record signals the engine computes.</summary>
internal enum SignalKind
{
    /// <summary>Mahalanobis distance to the nearest training class mean (<see cref="MahalanobisScorer"/>).</summary>
    Mahalanobis,

    /// <summary>Mean distance to the k nearest training neighbours (<see cref="NeighborSignals.MeanDistance"/>).</summary>
    KnnDistance,

    /// <summary>Share of the k nearest training neighbours whose label differs from the prediction (<see cref="NeighborSignals.Disagreement"/>).</summary>
    Boundary,

    /// <summary>Entropy of the class probabilities (<see cref="PredictionUncertainty.Entropy"/>).</summary>
    Entropy,

    /// <summary>1 - (p1 - p2) (<see cref="PredictionUncertainty.Margin"/>).</summary>
    Margin,

    /// <summary>1 - p1 (<see cref="PredictionUncertainty.LeastConfidence"/>).</summary>
    LeastConfidence,

    /// <summary>
    /// Relative Mahalanobis distance (Ren et al. 2021, <see cref="EmbeddingMeasurement.RelativeMahalanobis"/>):
    /// squared distance to the nearest class mean minus squared distance to one Gaussian over all training data.
    /// </summary>
    RelativeMahalanobis,

    /// <summary>
    /// How far the embedding's length falls short of its class's (<see cref="EmbeddingMeasurement.NormShortfall"/>):
    /// <c>1 - ||x|| / median ||x_train||</c> over the training rows of the predicted class. Networks respond to what
    /// they were trained on with larger activations (Dhamija et al. 2018; Yu et al. 2023), so a short embedding is
    /// unusual; calibrated like the distances. Absent when the training embeddings all have the same length.
    /// </summary>
    FeatureNorm,

    /// <summary>
    /// How much more the record looks like production than like training to a domain classifier fitted on training and
    /// production rows (a classifier two-sample test, Lopez-Paz and Oquab 2017; Rabanser et al. 2019;
    /// <see cref="ProductionShiftClassifier"/>), scored out-of-fold and calibrated like the distances. The only signal
    /// that learns from production: it finds shifts the distances to training miss (a shrunk or noisy embedding in the
    /// training region). Absent while the classifier cannot tell production from training
    /// (<see cref="ProductionShift.Joins"/>) and before there are <see cref="RecommendationOptions.ProductionShiftMinimumRows"/>
    /// production rows.
    /// </summary>
    ProductionShift,
}

/// <summary>Wire names of <see cref="SignalKind"/> (the <c>SignalScore.signal</c> field of the query API).</summary>
internal static class SignalKindNames
{
    /// <summary>"mahalanobis", "knn_distance", "boundary", "entropy", "margin", "least_confidence", "relative_mahalanobis", "feature_norm" or "production_shift".</summary>
    public static string ToWireName(this SignalKind kind) => kind switch
    {
        SignalKind.Mahalanobis => "mahalanobis",
        SignalKind.KnnDistance => "knn_distance",
        SignalKind.Boundary => "boundary",
        SignalKind.Entropy => "entropy",
        SignalKind.Margin => "margin",
        SignalKind.LeastConfidence => "least_confidence",
        SignalKind.RelativeMahalanobis => "relative_mahalanobis",
        SignalKind.FeatureNorm => "feature_norm",
        SignalKind.ProductionShift => "production_shift",
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "Unknown signal."),
    };
}
