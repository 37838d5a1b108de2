namespace Chroma.Server.Indexing;

/// <summary>
/// The index of one embedding set: exact (brute force) while the set is small, where a scan is faster
/// than a graph walk and needs no build; an HNSW graph once it reaches the threshold. The graph is built
/// on a background task from a snapshot while exact search keeps answering; changes made meanwhile are
/// replayed onto it before it takes over. A set never goes back to exact search.
/// Thread-safe: one writer at a time (the indexing worker) and any number of searches.
/// </summary>
internal sealed class AdaptiveVectorIndex : IVectorIndex, IDisposable
{
    private readonly ReaderWriterLockSlim _gate = new(LockRecursionPolicy.NoRecursion);
    private readonly int _threshold;
    private readonly int _buildThreads;
    private readonly CancellationTokenSource _disposing = new();
    private BruteForceVectorIndex? _exact;
    private HnswVectorIndex? _hnsw;
    private List<(long Sequence, float[]? Vector, string? Dataset)>? _changesDuringBuild;
    private Task _build = Task.CompletedTask;

    /// <summary>An empty index that switches to HNSW at <paramref name="threshold"/> vectors.</summary>
    public AdaptiveVectorIndex(int dimension, int threshold, int buildThreads = 0)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(threshold, 0);
        _threshold = threshold;
        _buildThreads = buildThreads > 0 ? buildThreads : Environment.ProcessorCount;
        Dimension = dimension;
        if (threshold == 0)
        {
            _hnsw = new HnswVectorIndex(dimension);
        }
        else
        {
            _exact = new BruteForceVectorIndex(dimension);
        }
    }

    /// <summary>An index that starts on a loaded graph.</summary>
    public AdaptiveVectorIndex(HnswVectorIndex loaded)
    {
        ArgumentNullException.ThrowIfNull(loaded);
        _hnsw = loaded;
        _buildThreads = Environment.ProcessorCount;
        Dimension = loaded.Dimension;
    }

    /// <inheritdoc />
    public int Dimension { get; }

    /// <inheritdoc />
    public int Count
    {
        get
        {
            if (Volatile.Read(ref _hnsw) is { } hnsw)
            {
                return hnsw.Count;
            }

            _gate.EnterReadLock();
            try
            {
                return _hnsw?.Count ?? _exact!.Count;
            }
            finally
            {
                _gate.ExitReadLock();
            }
        }
    }

    /// <summary>Gets the graph once HNSW answers searches; null while exact search does.</summary>
    public HnswVectorIndex? Hnsw => Volatile.Read(ref _hnsw);

    /// <summary>Gets a task that completes when the background build (if any) has finished and taken over.</summary>
    public Task BuildCompletion => Volatile.Read(ref _build);

    /// <inheritdoc />
    public void Add(long sequence, ReadOnlySpan<float> vector, string dataset)
    {
        if (Volatile.Read(ref _hnsw) is { } hnsw)
        {
            hnsw.Add(sequence, vector, dataset);
            return;
        }

        _gate.EnterWriteLock();
        try
        {
            if (_hnsw is not null)
            {
                _hnsw.Add(sequence, vector, dataset);
                return;
            }

            _exact!.Add(sequence, vector, dataset);
            _changesDuringBuild?.Add((sequence, vector.ToArray(), dataset));
        }
        finally
        {
            _gate.ExitWriteLock();
        }
    }

    /// <inheritdoc />
    public bool Remove(long sequence)
    {
        if (Volatile.Read(ref _hnsw) is { } hnsw)
        {
            return hnsw.Remove(sequence);
        }

        _gate.EnterWriteLock();
        try
        {
            if (_hnsw is not null)
            {
                return _hnsw.Remove(sequence);
            }

            _changesDuringBuild?.Add((sequence, null, null));
            return _exact!.Remove(sequence);
        }
        finally
        {
            _gate.ExitWriteLock();
        }
    }

    /// <inheritdoc />
    public IReadOnlyList<VectorNeighbor> Search(ReadOnlySpan<float> query, int k, string? dataset = null)
    {
        if (Volatile.Read(ref _hnsw) is { } hnsw)
        {
            return hnsw.Search(query, k, dataset);
        }

        _gate.EnterReadLock();
        try
        {
            return _hnsw is not null ? _hnsw.Search(query, k, dataset) : _exact!.Search(query, k, dataset);
        }
        finally
        {
            _gate.ExitReadLock();
        }
    }

    /// <summary>
    /// Starts the background HNSW build when the set has reached the threshold and none runs yet.
    /// Called after each applied batch rather than per record, so a bulk load snapshots once.
    /// </summary>
    /// <returns>Whether a build was started.</returns>
    public bool StartBuildIfLarge()
    {
        _gate.EnterWriteLock();
        try
        {
            if (_hnsw is not null || _changesDuringBuild is not null || _exact!.Count < _threshold)
            {
                return false;
            }

            var snapshot = _exact.Snapshot();
            _changesDuringBuild = [];
            Volatile.Write(ref _build, Task.Run(() => Build(snapshot)));
            return true;
        }
        finally
        {
            _gate.ExitWriteLock();
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        // Stop a running build and wait for it, so no thread is inside the gate or the graph when they go.
        _disposing.Cancel();
        try
        {
            BuildCompletion.Wait();
        }
        catch (AggregateException ex) when (ex.InnerException is OperationCanceledException)
        {
            // The build was abandoned, as asked.
        }

        Volatile.Read(ref _hnsw)?.Dispose();
        _gate.Dispose();
        _disposing.Dispose();
    }

    private void Build(VectorSnapshot snapshot)
    {
        var built = new HnswVectorIndex(Dimension);
        try
        {
            var dimension = Dimension;
            Parallel.For(
                0,
                snapshot.Sequences.Length,
                new ParallelOptions { MaxDegreeOfParallelism = _buildThreads, CancellationToken = _disposing.Token },
                i => built.Add(snapshot.Sequences[i], snapshot.Vectors.AsSpan(i * dimension, dimension), snapshot.Datasets[i]));
            TakeOver(built);
        }
        catch
        {
            // Exact search keeps answering; the graph is dropped, and the next batch may try again.
            built.Dispose();
            if (!_disposing.IsCancellationRequested)
            {
                _gate.EnterWriteLock();
                _changesDuringBuild = null;
                _gate.ExitWriteLock();
            }

            throw;
        }
    }

    private void TakeOver(HnswVectorIndex built)
    {
        _gate.EnterWriteLock();
        try
        {
            // Writers wait here only for the replay of what changed during the build, not the build itself.
            foreach (var (sequence, vector, dataset) in _changesDuringBuild!)
            {
                if (vector is null)
                {
                    built.Remove(sequence);
                }
                else
                {
                    built.Add(sequence, vector, dataset!);
                }
            }

            _changesDuringBuild = null;
            _exact = null;
            Volatile.Write(ref _hnsw, built);
        }
        finally
        {
            _gate.ExitWriteLock();
        }
    }
}
