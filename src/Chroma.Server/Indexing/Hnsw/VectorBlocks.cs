namespace Chroma.Server.Indexing.Hnsw;

/// <summary>
/// How the exact index lays out its vectors so an HNSW graph built from its snapshot can read them in place: blocks of
/// a power-of-two number of rows of at most 64 KiB (one row when a row is longer), the unit a change after a snapshot
/// copies; from row <see cref="SlabsFrom"/> on, the blocks are consecutive parts of one pinned array of
/// <see cref="SlabRows"/> rows (a slab), exactly the vectors of one graph chunk, which the graph then uses as its own
/// (<see cref="HnswIndex.AdoptVectors"/>).
/// </summary>
internal static class VectorBlocks
{
    /// <summary>The floats a block holds at most, unless one row is longer (64 KiB).</summary>
    public const int MaxFloats = 16_384;

    /// <summary>Rows in a slab: the nodes of one graph chunk.</summary>
    public const int SlabRows = Internal.NodeStore.ChunkSize;

    /// <summary>
    /// The first row the exact index keeps in slabs: below it a set is usually still under the exact-search threshold
    /// (5,000 by default) or just built, so a slab would mostly sit empty (48 MiB at 3,072 floats a row); a set loaded
    /// from the store at start, the case slabs are for, passes it at once.
    /// </summary>
    public const int SlabsFrom = 2 * SlabRows;

    /// <summary>
    /// The pinned slab holding rows <c>slab * 4,096</c> to <c>+4,095</c> of blocks laid out this way (block c is
    /// <paramref name="blockRows"/> rows of <c>blocks[c]</c> from float <c>starts[c]</c>; <c>inSlab[c]</c>: that array is
    /// a slab), when all of those rows are among the first <paramref name="rows"/> and their blocks are still the slab's
    /// consecutive parts (none was copied since); null otherwise.
    /// </summary>
    public static float[]? WholeSlab(float[][] blocks, int[] starts, bool[] inSlab, int blockRows, int dimension, int rows, int slab)
    {
        var perSlab = SlabRows / blockRows;
        var first = slab * perSlab;
        if (SlabRows % blockRows != 0 || (long)(slab + 1) * SlabRows > rows || first + perSlab > blocks.Length)
        {
            return null;
        }

        var array = blocks[first];
        for (var i = 0; i < perSlab; i++)
        {
            if (!inSlab[first + i] || !ReferenceEquals(blocks[first + i], array) || starts[first + i] != i * blockRows * dimension)
            {
                return null;
            }
        }

        return array;
    }

    /// <summary>The rows in a block of <paramref name="dimension"/>-float rows: a power of two dividing <see cref="SlabRows"/>.</summary>
    public static int RowsFor(int dimension)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(dimension, 1);
        var fit = Math.Max(1, MaxFloats / dimension);
        return Math.Min(1 << (31 - int.LeadingZeroCount(fit)), SlabRows);
    }
}
