using Chroma.Server.Indexing.Hnsw;

namespace Chroma.Server.Indexing.Internal;

/// <summary>
/// What changed in an exact index while its graph was built, in order: which records were added, to which dataset, and
/// which removed. It holds no vectors: the exact index holds every added one until the take-over, and they are copied
/// from it when a share of the log is taken (<see cref="Take"/>) or replayed (<see cref="ReplayOnto"/>). A 1,536-float
/// record arriving during a build used to be logged as an array of its own besides its row in the exact index: 6 KiB
/// twice, and tens of thousands of small arrays for the collector when a bulk load outruns the build.
/// Not thread-safe: the owning index's gate guards it and the exact index together.
/// </summary>
internal sealed class BuildChangeLog
{
    private readonly List<(long Sequence, string? Dataset)> _entries = [];

    /// <summary>Gets how many changes are logged and not taken yet.</summary>
    public int Count => _entries.Count;

    /// <summary>Logs that record <paramref name="sequence"/> was added to <paramref name="dataset"/>.</summary>
    public void Added(long sequence, string dataset) => _entries.Add((sequence, dataset));

    /// <summary>Logs that record <paramref name="sequence"/> was removed.</summary>
    public void Removed(long sequence) => _entries.Add((sequence, null));

    /// <summary>
    /// Takes the oldest changes, at least one and no more than their vectors fit in <paramref name="maxFloats"/> floats,
    /// with the vectors copied from <paramref name="exact"/> (see <see cref="VectorBatch.Copy"/>).
    /// </summary>
    public VectorBatch Take(BruteForceVectorIndex exact, int maxFloats)
    {
        ArgumentNullException.ThrowIfNull(exact);
        var rowsAllowed = Math.Max(1, maxFloats / exact.Dimension);
        var taken = 0;
        var added = 0;
        while (taken < _entries.Count && (_entries[taken].Dataset is null || added < rowsAllowed))
        {
            added += _entries[taken].Dataset is null ? 0 : 1;
            taken++;
        }

        var batch = VectorBatch.Copy(_entries.GetRange(0, taken), exact);
        _entries.RemoveRange(0, taken);
        return batch;
    }

    /// <summary>Applies every logged change to <paramref name="graph"/> in order, the vectors read from <paramref name="exact"/>, and empties the log.</summary>
    public void ReplayOnto(HnswVectorIndex graph, BruteForceVectorIndex exact)
    {
        ArgumentNullException.ThrowIfNull(graph);
        ArgumentNullException.ThrowIfNull(exact);
        var vector = new float[exact.Dimension];
        foreach (var (sequence, dataset) in _entries)
        {
            if (dataset is not null && exact.Contains(sequence))
            {
                exact.CopyRow(sequence, vector);
                graph.Add(sequence, vector, dataset);
            }
            else
            {
                graph.Remove(sequence);
            }
        }

        _entries.Clear();
    }
}
