namespace Chroma.Server.Indexing.Internal;

/// <summary>
/// Changes to apply to a graph in order, with their vectors in one array rather than one array per record: entry i adds
/// record <c>Sequences[i]</c> with <see cref="Vector"/>(i) to its dataset, or removes it when its dataset is null.
/// Thousands of wide vectors staged as arrays of their own would be as many small objects for the collector to
/// promote and compact; one array per batch is freed whole.
/// </summary>
internal sealed class VectorBatch
{
    private readonly long[] _sequences;
    private readonly string?[] _datasets;
    private readonly int[] _rows;
    private readonly float[] _vectors;
    private readonly int _dimension;

    private VectorBatch(long[] sequences, string?[] datasets, int[] rows, float[] vectors, int dimension)
    {
        _sequences = sequences;
        _datasets = datasets;
        _rows = rows;
        _vectors = vectors;
        _dimension = dimension;
    }

    /// <summary>Gets how many changes the batch holds.</summary>
    public int Count => _sequences.Length;

    /// <summary>Gets the record of change <paramref name="index"/>.</summary>
    public long Sequence(int index) => _sequences[index];

    /// <summary>Gets whether change <paramref name="index"/> removes its record.</summary>
    public bool IsRemoval(int index) => _datasets[index] is null;

    /// <summary>Gets the dataset of the record change <paramref name="index"/> adds.</summary>
    public string Dataset(int index) => _datasets[index] ?? throw new InvalidOperationException($"Change {index} is a removal.");

    /// <summary>Gets the vector of the record change <paramref name="index"/> adds.</summary>
    public ReadOnlySpan<float> Vector(int index) =>
        _rows[index] >= 0 ? _vectors.AsSpan(_rows[index] * _dimension, _dimension) : throw new InvalidOperationException($"Change {index} is a removal.");

    /// <summary>The first <paramref name="count"/> changes of this batch (their vectors shared, not copied).</summary>
    public VectorBatch Take(int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(count, Count);
        return count == Count ? this : new VectorBatch(_sequences[..count], _datasets[..count], _rows[..count], _vectors, _dimension);
    }

    /// <summary>
    /// Copies the changes <paramref name="entries"/> (dataset null for a removal) with the vectors of their additions read
    /// from <paramref name="source"/>; an addition whose record <paramref name="source"/> no longer holds (removed since)
    /// becomes a removal, which removes nothing where the record never arrived.
    /// </summary>
    public static VectorBatch Copy(IReadOnlyList<(long Sequence, string? Dataset)> entries, BruteForceVectorIndex source)
    {
        var sequences = new long[entries.Count];
        var datasets = new string?[entries.Count];
        var rows = new int[entries.Count];
        var added = 0;
        for (var i = 0; i < entries.Count; i++)
        {
            (sequences[i], datasets[i]) = entries[i];
            if (datasets[i] is not null && source.Contains(sequences[i]))
            {
                rows[i] = added++;
            }
            else
            {
                (datasets[i], rows[i]) = (null, -1);
            }
        }

        var dimension = source.Dimension;
        var vectors = new float[(long)added * dimension];
        for (var i = 0; i < entries.Count; i++)
        {
            if (rows[i] >= 0)
            {
                source.CopyRow(sequences[i], vectors.AsSpan(rows[i] * dimension, dimension));
            }
        }

        return new VectorBatch(sequences, datasets, rows, vectors, dimension);
    }
}
