namespace Chroma;

/// <summary>
/// How an embedding set measures the distance between two embeddings (smaller is closer). The set's index,
/// <c>FindNearestAsync</c> and the neighbour signals of the recommendations (<c>knn_distance</c>, <c>boundary</c>) all use it. Chosen by the
/// first batch that creates the set and fixed from then on.
/// </summary>
public enum DistanceMetric
{
    /// <summary>Leave it to the server: an existing set keeps its metric; a new set is created as <see cref="L2"/>.</summary>
    Unspecified = 0,

    /// <summary>Squared Euclidean distance (no square root).</summary>
    L2 = 1,

    /// <summary>Cosine distance, 1 - cosine similarity (0..2); all-zero embeddings are rejected in such a set.</summary>
    Cosine = 2,
}
