namespace Chroma.Server.Recommendations;

/// <summary>
/// k-nearest-neighbour search over the L2-normalised training embeddings a
/// <see cref="RecommendationModel"/> was fitted on. Brute force in tests
/// (<see cref="BruteForceNeighborSearch"/>); the HNSW index implements it in the server.
/// </summary>
/// <remarks>
/// Implementations must be safe for concurrent <see cref="Search"/> calls: the scorer queries
/// from several threads. Distances may be exact or approximate and may use any metric that is
/// monotone in the Euclidean distance between unit vectors (Euclidean, cosine distance): signals
/// are calibrated by rank against held-out records scored through the same search, so a monotone
/// change of metric does not change a percentile.
/// </remarks>
internal interface ITrainingNeighborSearch
{
    /// <summary>
    /// Returns up to <paramref name="k"/> nearest training records to <paramref name="query"/>
    /// (a unit vector), nearest first. <c>TrainingIndex</c> is the row in the vectors the search was built from.
    /// </summary>
    IReadOnlyList<(int TrainingIndex, float Distance)> Search(ReadOnlySpan<float> query, int k);
}

/// <summary>
/// Builds a neighbour search over <paramref name="unitVectors"/> (row-major, <paramref name="dimension"/>
/// floats per row, already L2-normalised). The model calls it once per fit with the training rows it
/// keeps after holding out its calibration slice, so indices refer to those rows.
/// </summary>
internal delegate ITrainingNeighborSearch NeighborSearchFactory(float[] unitVectors, int dimension);
