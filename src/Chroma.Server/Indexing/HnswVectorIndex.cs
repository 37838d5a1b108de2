using Chroma.Server.Indexing.Hnsw;

namespace Chroma.Server.Indexing;

/// <summary>
/// <see cref="IVectorIndex"/> over an <see cref="HnswIndex"/> (squared L2, as the proto defines set distances):
/// record sequences are the keys and each dataset name gets a small tag, so a dataset filter is a tag filter.
/// Thread-safe: adds, removes and searches may run at once (the graph is; the tag map takes a lock).
/// </summary>
internal sealed class HnswVectorIndex : IVectorIndex, IDisposable
{
    private readonly Lock _tagLock = new();
    private readonly Dictionary<string, int> _tags;

    /// <summary>Creates an empty index for vectors of <paramref name="dimension"/>.</summary>
    public HnswVectorIndex(int dimension)
        : this(new HnswIndex(new HnswOptions { Dimension = dimension, Metric = HnswMetric.L2 }), new Dictionary<string, int>(StringComparer.Ordinal))
    {
    }

    /// <summary>Wraps a loaded <paramref name="index"/> whose tags were given by <paramref name="tags"/>.</summary>
    public HnswVectorIndex(HnswIndex index, IReadOnlyDictionary<string, int> tags)
    {
        ArgumentNullException.ThrowIfNull(index);
        ArgumentNullException.ThrowIfNull(tags);
        if (index.Options.Metric != HnswMetric.L2)
        {
            throw new ArgumentException($"An embedding set index ranks by squared L2, not {index.Options.Metric}.", nameof(index));
        }

        Graph = index;
        _tags = new Dictionary<string, int>(tags, StringComparer.Ordinal);
    }

    /// <summary>Gets the graph (for saving).</summary>
    public HnswIndex Graph { get; }

    /// <inheritdoc />
    public int Dimension => Graph.Dimension;

    /// <inheritdoc />
    public int Count => Graph.Count;

    /// <summary>A copy of the dataset-to-tag map (saved next to the graph).</summary>
    public IReadOnlyDictionary<string, int> Tags
    {
        get
        {
            lock (_tagLock)
            {
                return new Dictionary<string, int>(_tags, StringComparer.Ordinal);
            }
        }
    }

    /// <inheritdoc />
    public void Add(long sequence, ReadOnlySpan<float> vector, string dataset)
    {
        var tag = TagOf(dataset);

        // Replace = remove + add: the old node stays as a tombstone until compaction.
        Graph.Remove(sequence);
        Graph.Add(sequence, vector, tag);
    }

    /// <inheritdoc />
    public bool Remove(long sequence) => Graph.Remove(sequence);

    /// <inheritdoc />
    public IReadOnlyList<VectorNeighbor> Search(ReadOnlySpan<float> query, int k, string? dataset = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(k, 1);
        int? tag = null;
        if (dataset is not null)
        {
            lock (_tagLock)
            {
                if (!_tags.TryGetValue(dataset, out var known))
                {
                    return [];
                }

                tag = known;
            }
        }

        // The beam must be at least k wide or the graph walk cannot return k neighbours.
        var found = Graph.Search(query, k, tag, Math.Max(Graph.Options.EfSearch, k));
        var result = new VectorNeighbor[found.Length];
        for (var i = 0; i < found.Length; i++)
        {
            result[i] = new VectorNeighbor(found[i].Key, found[i].Distance);
        }

        return result;
    }

    /// <summary>Rebuilds the graph without tombstones when they outnumber the live vectors.</summary>
    /// <returns>Whether a compaction ran.</returns>
    public bool CompactIfMostlyDeleted()
    {
        if (Graph.DeletedCount <= Math.Max(Graph.Count, 1024))
        {
            return false;
        }

        Graph.Compact(Environment.ProcessorCount);
        return true;
    }

    /// <inheritdoc />
    public void Dispose() => Graph.Dispose();

    private int TagOf(string dataset)
    {
        lock (_tagLock)
        {
            if (_tags.TryGetValue(dataset, out var tag))
            {
                return tag;
            }

            tag = _tags.Count;
            if (tag > HnswIndex.MaxTag)
            {
                throw new InvalidOperationException($"An embedding set index holds at most {HnswIndex.MaxTag + 1} datasets.");
            }

            _tags[dataset] = tag;
            return tag;
        }
    }
}
