namespace Chroma.Server.Indexing.Hnsw;

/// <summary>The distance an <see cref="HnswIndex"/> ranks neighbours by; smaller is closer.</summary>
internal enum HnswMetric
{
    /// <summary>Squared Euclidean distance (no square root: it preserves the order and is cheaper).</summary>
    L2 = 0,

    /// <summary>1 - cosine similarity. Vectors are normalised on insert, so this costs one dot product.</summary>
    Cosine = 1,

    /// <summary>1 - dot product (the hnswlib convention), for embeddings whose norm carries meaning.</summary>
    InnerProduct = 2,
}
