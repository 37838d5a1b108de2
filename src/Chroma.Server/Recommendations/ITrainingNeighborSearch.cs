namespace Chroma.Server.Recommendations;

/// <summary>
/// k-nearest-neighbour search over the training embeddings a <see cref="RecommendationModel"/> was
/// fitted on, under the set's <see cref="NeighborMetric"/>. Brute force in tests and for small training
/// sets (<see cref="BruteForceNeighborSearch"/>); the HNSW index implements it in the server.
/// </summary>
/// <remarks>
/// Implementations must be safe for concurrent <see cref="Search"/> calls: the scorer queries from several
/// threads. Distances are those of the metric, as <c>FindNearest</c> reports them: squared Euclidean for
/// <see cref="NeighborMetric.L2"/> (rows and queries are raw embeddings), <c>1 - a.b</c> for
/// <see cref="NeighborMetric.Cosine"/> (rows and queries are unit vectors; a zero vector stays zero and is at
/// distance 1 from everything). Searches may be exact or approximate.
/// </remarks>
internal interface ITrainingNeighborSearch
{
    /// <summary>
    /// Returns up to <paramref name="k"/> nearest training records to <paramref name="query"/>, nearest first.
    /// <c>TrainingIndex</c> is the row in the vectors the search was built from.
    /// </summary>
    IReadOnlyList<(int TrainingIndex, float Distance)> Search(ReadOnlySpan<float> query, int k);

    /// <summary>Gets a value indicating whether <see cref="Search"/> returns the exact nearest rows.</summary>
    bool IsExact { get; }

    /// <summary>
    /// A search over the same rows that keeps <paramref name="factor"/> times as many candidates, so it misses fewer of
    /// the exact neighbours at a higher cost per query; this search when it is exact.
    /// </summary>
    ITrainingNeighborSearch Broader(int factor);
}

/// <summary>
/// Builds a neighbour search over <paramref name="rows"/> (row-major, <paramref name="dimension"/> floats per
/// row) under <paramref name="metric"/>: raw rows for <see cref="NeighborMetric.L2"/>, unit-normalised rows for
/// <see cref="NeighborMetric.Cosine"/>. The model calls it once per fit with every training row, so indices are
/// training rows. The rows are not copied; the search must not change them.
/// </summary>
internal delegate ITrainingNeighborSearch NeighborSearchFactory(float[] rows, int dimension, NeighborMetric metric);
