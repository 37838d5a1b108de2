namespace Chroma.Server.Indexing.Hnsw;

/// <summary>One neighbour found by <see cref="HnswIndex.Search(ReadOnlySpan{float}, int, int?, int)"/>.</summary>
/// <param name="Key">The caller's key the vector was added with.</param>
/// <param name="Distance">Distance under the index metric; results come in ascending order.</param>
internal readonly record struct HnswSearchResult(long Key, float Distance);
