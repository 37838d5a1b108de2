namespace Chroma.Server.Recommendations;

/// <summary>
/// Measures the raw embedding-based signals of one record (Mahalanobis distance, kNN distance,
/// boundary disagreement) against fitted training data. Shared by calibration (held-out training
/// records) and scoring (production records), so both are measured the same way.
/// </summary>
/// <param name="Mahalanobis">Class means and shrunk covariance.</param>
/// <param name="NeighborSearch">Search over the fitted unit-normalised training rows.</param>
/// <param name="FitLabels">Labels of those rows, indexed like the search.</param>
/// <param name="NeighborCount">k.</param>
internal sealed record SignalMeasurer(
    MahalanobisScorer Mahalanobis,
    ITrainingNeighborSearch NeighborSearch,
    IReadOnlyList<string> FitLabels,
    int NeighborCount)
{
    /// <summary>One Gaussian over all fitted rows (labels ignored) for the relative Mahalanobis distance, or null for none.</summary>
    public MahalanobisScorer? Background { get; init; }

    /// <summary>Measures one record from its raw embedding and its unit vector.</summary>
    public EmbeddingMeasurement Measure(ReadOnlySpan<float> embedding, ReadOnlySpan<float> unitEmbedding, string? predictedClass)
    {
        var (distance, nearest) = Mahalanobis.Score(embedding);
        var neighbors = NeighborSearch.Search(unitEmbedding, NeighborCount);
        double? relative = null;
        if (Background is { } background)
        {
            var (backgroundDistance, _) = background.Score(embedding);
            relative = (distance * distance) - (backgroundDistance * backgroundDistance);
        }

        return new EmbeddingMeasurement(distance, Mahalanobis.Classes[nearest], NeighborSignals.From(neighbors, FitLabels, predictedClass))
        {
            RelativeMahalanobis = relative,
        };
    }
}

/// <summary>Raw embedding-based signals of one record, before calibration.</summary>
/// <param name="MahalanobisDistance">Distance to the nearest class mean.</param>
/// <param name="NearestClass">That class.</param>
/// <param name="Neighbors">kNN distance and boundary disagreement.</param>
internal readonly record struct EmbeddingMeasurement(double MahalanobisDistance, string NearestClass, NeighborSignals Neighbors)
{
    /// <summary>
    /// Relative Mahalanobis distance (Ren et al. 2021): the squared distance to the nearest class mean minus the
    /// squared distance to one Gaussian fitted to all training rows, or null when the model has no background fit.
    /// Large when a record is far from its class in directions the training data as a whole does not explain.
    /// </summary>
    public double? RelativeMahalanobis { get; init; }
}
