using Chroma.Server.Indexing.Hnsw;

namespace Chroma.Server.Indexing.Internal;

/// <summary>
/// What changed in an exact index while its graph was built, in order: which records were added, to which dataset, and
/// which removed. It holds no vectors: the exact index holds every added one until the take-over, and they are copied
/// from it when a share of the log is taken (<see cref="Take"/>) or replayed (<see cref="ReplayOnto"/>). A 1,536-float
/// record arriving during a build used to be logged as an array of its own besides its row in the exact index: 6 KiB
/// twice, and tens of thousands of small arrays for the collector when a bulk load outruns the build. Additions that
/// fill whole slabs of the exact index in row order are not copied at all: the graph adopts those slabs
/// (<see cref="TakeAdoptable"/>).
/// Not thread-safe: the owning index's gate guards it and the exact index together.
/// </summary>
internal sealed class BuildChangeLog
{
    private readonly List<(long Sequence, string? Dataset)> _entries = [];

    /// <summary>Gets how many changes are logged and not taken yet.</summary>
    public int Count => _entries.Count;

    /// <summary>Logs that record <paramref name="sequence"/> was added to <paramref name="dataset"/>.</summary>
    public void Added(long sequence, string dataset)
    {
        _entries.Add((sequence, dataset));
        AddedTotal++;
    }

    /// <summary>Gets how many additions were logged since the build began, those taken included.</summary>
    public int AddedTotal { get; private set; }

    /// <summary>Gets whether a removal was logged: the exact index's rows no longer follow the log's additions.</summary>
    public bool RemovalLogged { get; private set; }

    /// <summary>Logs that record <paramref name="sequence"/> was removed.</summary>
    public void Removed(long sequence)
    {
        _entries.Add((sequence, null));
        RemovalLogged = true;
    }

    /// <summary>
    /// Takes the oldest changes when they are the additions of exact rows <paramref name="firstRow"/> on, in row order,
    /// filling whole slabs of 4,096 rows (at most <paramref name="maxSlabs"/>) that <paramref name="adopt"/> (first row,
    /// slabs) lets a graph read in place; the slabs are shared first (<see cref="BruteForceVectorIndex.ShareWholeSlab"/>),
    /// so the exact index never writes them again. Null, with nothing taken, when not even one slab qualifies or
    /// <paramref name="adopt"/> refuses.
    /// </summary>
    public AdoptedRows? TakeAdoptable(BruteForceVectorIndex exact, int firstRow, int maxSlabs, Func<int, IReadOnlyList<float[]>, bool> adopt)
    {
        ArgumentNullException.ThrowIfNull(exact);
        ArgumentNullException.ThrowIfNull(adopt);
        const int SlabRows = VectorBlocks.SlabRows;
        if (firstRow % SlabRows != 0 || firstRow < VectorBlocks.SlabsFrom)
        {
            return null;
        }

        var slabs = new List<float[]>();
        while (slabs.Count < maxSlabs && FollowsRows(exact, slabs.Count * SlabRows, firstRow + (slabs.Count * SlabRows), SlabRows)
            && exact.ShareWholeSlab((firstRow / SlabRows) + slabs.Count) is { } slab)
        {
            slabs.Add(slab);
        }

        if (slabs.Count == 0 || !adopt(firstRow, slabs))
        {
            return null;
        }

        var rows = slabs.Count * SlabRows;
        var sequences = new long[rows];
        var datasets = new string[rows];
        for (var i = 0; i < rows; i++)
        {
            (sequences[i], datasets[i]) = (_entries[i].Sequence, _entries[i].Dataset!);
        }

        _entries.RemoveRange(0, rows);
        return new AdoptedRows(firstRow, sequences, datasets, slabs);
    }

    /// <summary>
    /// Takes the oldest changes, at least one and no more than their vectors fit in <paramref name="maxFloats"/> floats
    /// (and at most <paramref name="maxAdditions"/> additions, at least one), with the vectors copied from
    /// <paramref name="exact"/> (see <see cref="VectorBatch.Copy"/>).
    /// </summary>
    public VectorBatch Take(BruteForceVectorIndex exact, int maxFloats, int maxAdditions = int.MaxValue)
    {
        ArgumentNullException.ThrowIfNull(exact);
        var rowsAllowed = Math.Max(1, Math.Min(maxAdditions, maxFloats / exact.Dimension));
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

    /// <summary>Whether log entries <paramref name="from"/> to <c>+count - 1</c> add exact rows <paramref name="row"/> on, in order.</summary>
    private bool FollowsRows(BruteForceVectorIndex exact, int from, int row, int count)
    {
        if (from + count > _entries.Count || row + count > exact.Count)
        {
            return false;
        }

        for (var i = 0; i < count; i++)
        {
            if (_entries[from + i].Dataset is null || _entries[from + i].Sequence != exact.SequenceAt(row + i))
            {
                return false;
            }
        }

        return true;
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

/// <summary>
/// Additions logged during a build that are exact rows <paramref name="FirstRow"/> on, in order, whose slabs the graph
/// reads in place: row <c>FirstRow + i</c> is record <c>Sequences[i]</c> of dataset <c>Datasets[i]</c>, in <c>Slabs</c>.
/// </summary>
internal sealed record AdoptedRows(int FirstRow, long[] Sequences, string[] Datasets, IReadOnlyList<float[]> Slabs)
{
    /// <summary>Gets how many rows were adopted.</summary>
    public int Count => Sequences.Length;
}
