namespace Chroma.Server.Indexing;

/// <summary>A neighbour found by an index: the record's sequence and its distance to the query under the set's metric.</summary>
internal readonly record struct VectorNeighbor(long Sequence, float Distance);

/// <summary>
/// A search's neighbours, nearest first, and whether the index lacked some of what the store had committed for the set
/// before the call (<see cref="EmbeddingSetIndexes.FindAsync"/>).
/// </summary>
internal sealed record NearestAnswer(IReadOnlyList<VectorNeighbor> Neighbors, bool IndexBehind);

/// <summary>How one search trades speed for recall.</summary>
/// <param name="Breadth">Beam width of a graph search; 0 uses the set's adaptive default. Ignored by exact indexes.</param>
/// <param name="Exact">Scan every vector instead of walking the graph (exact answers, linear cost).</param>
internal readonly record struct NearestSearchOptions(int Breadth = 0, bool Exact = false);

/// <summary>
/// Nearest-neighbour index over one embedding set's vectors, under the set's metric (squared L2 or cosine distance). <see cref="AdaptiveVectorIndex"/>
/// and <see cref="HnswVectorIndex"/> are thread-safe; <see cref="BruteForceVectorIndex"/> is not (the
/// adaptive index guards it).
/// </summary>
internal interface IVectorIndex
{
    /// <summary>Gets the dimension every vector has.</summary>
    int Dimension { get; }

    /// <summary>Gets the number of vectors held.</summary>
    int Count { get; }

    /// <summary>Adds (or replaces) the vector of record <paramref name="sequence"/>.</summary>
    void Add(long sequence, ReadOnlySpan<float> vector, string dataset);

    /// <summary>Removes the vector of record <paramref name="sequence"/>; returns whether it was held.</summary>
    bool Remove(long sequence);

    /// <summary>The <paramref name="k"/> nearest vectors to <paramref name="query"/>, nearest first, optionally of one dataset.</summary>
    IReadOnlyList<VectorNeighbor> Search(ReadOnlySpan<float> query, int k, string? dataset = null, NearestSearchOptions options = default);
}
