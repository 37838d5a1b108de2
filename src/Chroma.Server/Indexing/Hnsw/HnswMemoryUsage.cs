namespace Chroma.Server.Indexing.Hnsw;

/// <summary>Memory an <see cref="HnswIndex"/> holds, split as the benchmark reports it.</summary>
/// <param name="VectorBytes">4 bytes per float of every stored vector (tombstones included).</param>
/// <param name="GraphBytes">Link lists, keys, tags, levels, flags and the key-to-node map.</param>
internal readonly record struct HnswMemoryUsage(long VectorBytes, long GraphBytes)
{
    /// <summary>Vectors plus graph.</summary>
    public long TotalBytes => VectorBytes + GraphBytes;
}
