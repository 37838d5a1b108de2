namespace Chroma.Server.Recommendations;

/// <summary>
/// The distance the training-neighbour search ranks by and reports: the embedding set's own metric, so the
/// neighbours behind the <c>knn_distance</c> and <c>boundary</c> signals are the ones <c>FindNearest</c> returns.
/// </summary>
internal enum NeighborMetric
{
    /// <summary>Squared Euclidean distance between the raw embeddings.</summary>
    L2 = 0,

    /// <summary>Cosine distance, <c>1 - cos</c>: <c>1 - a.b</c> between the unit-normalised embeddings.</summary>
    Cosine = 1,
}
