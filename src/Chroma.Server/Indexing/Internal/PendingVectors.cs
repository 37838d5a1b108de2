using Chroma.Server.Indexing.Hnsw;

namespace Chroma.Server.Indexing.Internal;

/// <summary>
/// Vectors read from the store that an HNSW graph does not hold yet: searched by a scan until they are linked into the
/// graph, so a record is findable as soon as it is read rather than once the (much slower) graph insert is done. The
/// indexing worker stages and links (one writer); searches read concurrently.
/// </summary>
/// <remarks>
/// Linking takes the oldest first, so every vector the graph holds is older (a smaller store sequence) than every
/// vector still pending, and a saved graph reflects the store through the sequence before the oldest pending one
/// (<see cref="OldestSequence"/>). A vector removed while pending is never linked.
/// </remarks>
internal sealed class PendingVectors : IDisposable
{
    private readonly ReaderWriterLockSlim _gate = new(LockRecursionPolicy.NoRecursion);
    private readonly BruteForceVectorIndex _scan;
    private readonly Queue<(long Sequence, string Dataset)> _order = new();
    private int _count;

    /// <summary>Creates an empty tail for vectors of <paramref name="dimension"/> ranked by <paramref name="metric"/>.</summary>
    public PendingVectors(int dimension, HnswMetric metric)
    {
        _scan = new BruteForceVectorIndex(dimension, metric);
    }

    /// <summary>Gets how many vectors are pending (staged, not removed, not linked yet).</summary>
    public int Count => Volatile.Read(ref _count);

    /// <summary>Gets the store sequence of the oldest pending vector, or null when none is.</summary>
    public long? OldestSequence
    {
        get
        {
            _gate.EnterReadLock();
            try
            {
                foreach (var (sequence, _) in _order)
                {
                    if (_scan.Contains(sequence))
                    {
                        return sequence;
                    }
                }

                return null;
            }
            finally
            {
                _gate.ExitReadLock();
            }
        }
    }

    /// <summary>Stages the vector of record <paramref name="sequence"/> (newer than every one staged before).</summary>
    public void Add(long sequence, ReadOnlySpan<float> vector, string dataset) => AddRange([sequence], vector, [dataset]);

    /// <summary>
    /// Stages many vectors (each newer than every one staged before) under one hold of the lock: a page of 4,096 added
    /// one at a time waited up to 4,096 times for the searches scanning the tail (a waiting writer also holds up the
    /// searches that arrive after it).
    /// </summary>
    /// <param name="sequences">The records' store sequences, ascending.</param>
    /// <param name="vectors">Their vectors, row i at <c>i * dimension</c> (exactly that many floats).</param>
    /// <param name="datasets">Their datasets.</param>
    public void AddRange(ReadOnlySpan<long> sequences, ReadOnlySpan<float> vectors, ReadOnlySpan<string> datasets)
    {
        var dimension = _scan.Dimension;
        ArgumentOutOfRangeException.ThrowIfNotEqual(vectors.Length, sequences.Length * dimension, nameof(vectors));
        ArgumentOutOfRangeException.ThrowIfNotEqual(datasets.Length, sequences.Length, nameof(datasets));
        _gate.EnterWriteLock();
        try
        {
            for (var i = 0; i < sequences.Length; i++)
            {
                _scan.Add(sequences[i], vectors.Slice(i * dimension, dimension), datasets[i]);
                _order.Enqueue((sequences[i], datasets[i]));
            }

            Volatile.Write(ref _count, _scan.Count);
        }
        finally
        {
            _gate.ExitWriteLock();
        }
    }

    /// <summary>Removes a pending vector (it will not be linked); false when <paramref name="sequence"/> is not pending.</summary>
    public bool Remove(long sequence)
    {
        if (Count == 0)
        {
            return false;
        }

        _gate.EnterWriteLock();
        try
        {
            var removed = _scan.Remove(sequence);
            Volatile.Write(ref _count, _scan.Count);
            return removed;
        }
        finally
        {
            _gate.ExitWriteLock();
        }
    }

    /// <summary>
    /// The oldest pending vectors, at most <paramref name="max"/>, copied for the graph (still searched here until
    /// <see cref="Linked"/>); vectors removed while pending are dropped from the order on the way.
    /// </summary>
    public VectorBatch Oldest(int max)
    {
        var taken = new List<(long, string?)>(Math.Min(max, Count));
        _gate.EnterReadLock();
        try
        {
            foreach (var (sequence, dataset) in _order)
            {
                if (taken.Count == max)
                {
                    break;
                }

                if (_scan.Contains(sequence))
                {
                    taken.Add((sequence, dataset));
                }
            }

            return VectorBatch.Copy(taken, _scan);
        }
        finally
        {
            _gate.ExitReadLock();
        }
    }

    /// <summary>Ends the pending state of vectors the graph now holds (the oldest ones, as <see cref="Oldest"/> gave them).</summary>
    public void Linked(VectorBatch linked)
    {
        ArgumentNullException.ThrowIfNull(linked);
        _gate.EnterWriteLock();
        try
        {
            for (var i = 0; i < linked.Count; i++)
            {
                _scan.Remove(linked.Sequence(i));
            }

            // Drop from the front of the order everything no longer pending (linked now, or removed earlier).
            while (_order.TryPeek(out var front) && !_scan.Contains(front.Sequence))
            {
                _order.Dequeue();
            }

            Volatile.Write(ref _count, _scan.Count);
        }
        finally
        {
            _gate.ExitWriteLock();
        }
    }

    /// <summary>The <paramref name="k"/> nearest pending vectors to <paramref name="query"/>, nearest first (an exact scan).</summary>
    public IReadOnlyList<VectorNeighbor> Search(ReadOnlySpan<float> query, int k, string? dataset)
    {
        _gate.EnterReadLock();
        try
        {
            return _scan.Count == 0 ? [] : _scan.SearchTogether(query, k, dataset);
        }
        finally
        {
            _gate.ExitReadLock();
        }
    }

    /// <summary>
    /// Merges a graph's answer with this tail's for the same query: nearest first, at most <paramref name="k"/>, a record
    /// found in both (linked while the query ran) once.
    /// </summary>
    public static IReadOnlyList<VectorNeighbor> Merge(IReadOnlyList<VectorNeighbor> graph, IReadOnlyList<VectorNeighbor> pending, int k)
    {
        if (pending.Count == 0)
        {
            return graph;
        }

        var merged = new List<VectorNeighbor>(Math.Min(k, graph.Count + pending.Count));
        var seen = new HashSet<long>();
        int g = 0, p = 0;
        while (merged.Count < k && (g < graph.Count || p < pending.Count))
        {
            var next = p >= pending.Count || (g < graph.Count && graph[g].Distance <= pending[p].Distance) ? graph[g++] : pending[p++];
            if (seen.Add(next.Sequence))
            {
                merged.Add(next);
            }
        }

        return merged;
    }

    /// <inheritdoc />
    public void Dispose() => _gate.Dispose();
}
