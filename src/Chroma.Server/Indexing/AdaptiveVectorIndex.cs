using Chroma.Server.Indexing.Hnsw;
using Chroma.Server.Indexing.Internal;

namespace Chroma.Server.Indexing;

/// <summary>
/// The index of one embedding set: exact (brute force) while the set is small, where a scan is faster
/// than a graph walk and needs no build; an HNSW graph once it reaches the threshold. The graph is built
/// in steps on the index threads from a snapshot while exact search keeps answering; a checkpoint of the
/// graph is saved between steps, so a restart resumes the build. Changes made during the build are replayed
/// onto the graph before it takes over. A set never goes back to exact search.
/// Thread-safe: one writer at a time (the indexing worker) and any number of searches.
/// </summary>
internal sealed partial class AdaptiveVectorIndex : IVectorIndex, IDisposable
{
    private readonly ReaderWriterLockSlim _gate = new(LockRecursionPolicy.NoRecursion);
    private readonly int _threshold;
    private readonly IndexBuildSettings _settings;
    private readonly CancellationTokenSource _disposing = new();
    private BruteForceVectorIndex? _exact;
    private HnswVectorIndex? _hnsw;
    private HnswVectorIndex? _resumeFrom;
    private BuildChangeLog? _changesDuringBuild;
    private Task _build = Task.CompletedTask;
    private Task _estimate = Task.CompletedTask;
    private Task _reconnect = Task.CompletedTask;
    private IndexBuildStep? _progress;
    private IndexBuildFailure? _lastBuildFailure;

    /// <summary>An empty index that switches to HNSW at <paramref name="threshold"/> vectors.</summary>
    /// <param name="dimension">Floats per vector.</param>
    /// <param name="threshold">Vectors at which the graph is built; 0 = a graph from the first vector.</param>
    /// <param name="settings">Threads, checkpoints and hooks of the background build.</param>
    /// <param name="resumeFrom">A checkpoint of an unfinished build: the next build continues it instead of starting over.</param>
    /// <param name="metric">The set's metric, L2 or cosine (the checkpoint's must match). The default value is L2.</param>
    public AdaptiveVectorIndex(int dimension, int threshold, IndexBuildSettings settings, HnswVectorIndex? resumeFrom = null, HnswMetric metric = HnswMetric.L2)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(threshold, 0);
        ArgumentNullException.ThrowIfNull(settings);
        if (resumeFrom is not null && resumeFrom.Metric != metric)
        {
            throw new ArgumentException($"The checkpoint ranks by {resumeFrom.Metric}, the set by {metric}.", nameof(resumeFrom));
        }

        _threshold = threshold;
        _settings = settings;
        Dimension = dimension;
        Metric = metric;
        if (threshold == 0 && resumeFrom is null)
        {
            _hnsw = new HnswVectorIndex(dimension, metric);
        }
        else
        {
            _exact = new BruteForceVectorIndex(dimension, metric);
            _resumeFrom = resumeFrom;
        }
    }

    /// <summary>An index that starts on a loaded (complete) graph.</summary>
    public AdaptiveVectorIndex(HnswVectorIndex loaded, IndexBuildSettings settings)
    {
        ArgumentNullException.ThrowIfNull(loaded);
        ArgumentNullException.ThrowIfNull(settings);
        _hnsw = loaded;
        _settings = settings;
        Dimension = loaded.Dimension;
        Metric = loaded.Metric;
    }

    /// <inheritdoc />
    public int Dimension { get; }

    /// <summary>Gets the metric searches rank by (the set's): squared L2 or cosine distance.</summary>
    public HnswMetric Metric { get; }

    /// <inheritdoc />
    public int Count
    {
        get
        {
            if (Volatile.Read(ref _hnsw) is { } hnsw)
            {
                return IndexedCount(hnsw);
            }

            _gate.EnterReadLock();
            try
            {
                return _hnsw is not null ? IndexedCount(_hnsw) : _exact!.Count;
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

    /// <summary>Gets a task that completes when the running recall estimate (if any) has finished.</summary>
    public Task EstimateCompletion => Volatile.Read(ref _estimate);

    /// <summary>Gets the latest background reconnect pass (<see cref="StartReconnectIfDue"/>); completed when none ran.</summary>
    public Task ReconnectCompletion => Volatile.Read(ref _reconnect);

    /// <summary>
    /// Gets how many changes wait in the log of a running build (they are in the exact index already and are replayed
    /// onto the graph before it takes over); 0 when no build runs.
    /// </summary>
    public int ChangesAwaitingBuild
    {
        get
        {
            _gate.EnterReadLock();
            try
            {
                return _changesDuringBuild?.Count ?? 0;
            }
            finally
            {
                _gate.ExitReadLock();
            }
        }
    }

    /// <summary>Gets how many vectors the last (or running) build found in its checkpoint and did not insert again.</summary>
    public int ResumedVectors { get; private set; }

    /// <summary>Gets how many vectors the last (or running) build's graph uses in place from the exact index's slabs rather than copying.</summary>
    public int AdoptedVectors { get; private set; }

    /// <summary>Gets how many checkpoints the builds of this index saved.</summary>
    public int CheckpointsSaved { get; private set; }

    /// <summary>What this index is and how good its default search is, for set statistics.</summary>
    public IndexStatus Status()
    {
        if (Hnsw is { } hnsw)
        {
            // One reading of both, so indexed - graph is what is staged (as ListSets says), never a record twice.
            var (graph, staged) = LinkedAndStaged(hnsw);
            return new IndexStatus(SetIndexKind.Hnsw, graph + staged, graph, hnsw.SearchBreadth, hnsw.Estimate);
        }

        var progress = Volatile.Read(ref _progress);
        var building = Volatile.Read(ref _changesDuringBuild) is not null;
        return new IndexStatus(building ? SetIndexKind.Building : SetIndexKind.Exact, Count, progress?.Indexed ?? 0, 0, null)
        {
            LastBuildFailure = Volatile.Read(ref _lastBuildFailure),
        };
    }

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
            _changesDuringBuild?.Added(sequence, dataset);
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
            return RemovePending(sequence) || hnsw.Remove(sequence);
        }

        _gate.EnterWriteLock();
        try
        {
            if (_hnsw is not null)
            {
                return RemovePending(sequence) || _hnsw.Remove(sequence);
            }

            _changesDuringBuild?.Removed(sequence);
            return _exact!.Remove(sequence);
        }
        finally
        {
            _gate.ExitWriteLock();
        }
    }

    /// <inheritdoc />
    public IReadOnlyList<VectorNeighbor> Search(ReadOnlySpan<float> query, int k, string? dataset = null, NearestSearchOptions options = default)
    {
        if (Volatile.Read(ref _hnsw) is { } hnsw)
        {
            return SearchWithPending(hnsw, query, k, dataset, options);
        }

        _gate.EnterReadLock();
        try
        {
            return _hnsw is not null ? SearchWithPending(_hnsw, query, k, dataset, options) : _exact!.SearchTogether(query, k, dataset);
        }
        finally
        {
            _gate.ExitReadLock();
        }
    }

    /// <summary>
    /// Starts a recall estimate on the index threads when the graph has none yet, has one of an older
    /// <see cref="RecallEstimator.Scheme"/> (a file saved before it), or has grown or shrunk by a tenth
    /// (<see cref="RecallEstimator.StaleChange"/>) since the last one, or a compaction replaced it, and no staged vector
    /// waits to be linked; the estimate sets the default search breadth. With <paramref name="onlyWithout"/>, only a graph without any estimate
    /// is estimated now: one that has a breadth to search with may wait for a quiet moment (the caller's deferred
    /// work). Returns whether one started.
    /// </summary>
    public bool StartEstimateIfStale(bool onlyWithout = false)
    {
        // Not while vectors wait to be linked: a graph half way through linking a burst is not the graph searches meet
        // once it is linked, and an estimate then stood until the set had grown a quarter (the rule then): a set
        // streamed from 6,000 to 60,000 records kept breadth 1,024 and an estimate of 0.92 where breadth 64 gave 0.96.
        // The worker asks again after each turn, so the estimate runs once the tail is linked.
        if (Hnsw is not { } hnsw || !EstimateCompletion.IsCompleted || hnsw.Count <= 10 || PendingCount > 0 || Compacting)
        {
            return false;
        }

        var due = Volatile.Read(ref _estimateDue); // a compaction replaced the graph
        if ((!EstimateStale(hnsw) && !due) || (onlyWithout && hnsw.Estimate is not null && !due))
        {
            return false;
        }

        Volatile.Write(ref _estimateDue, false);
        Volatile.Write(ref _estimate, EstimateAsync(hnsw));
        return true;
    }

    /// <summary>Gets whether the graph has an estimate that is to be taken again (see <see cref="StartEstimateIfStale"/>).</summary>
    public bool HasStaleEstimate => Hnsw is { Estimate: not null } hnsw && EstimateStale(hnsw);

    private static bool EstimateStale(HnswVectorIndex hnsw) =>
        hnsw.Estimate is not { Scheme: RecallEstimator.Scheme } last
        || hnsw.Count >= last.AtCount * (1 + RecallEstimator.StaleChange)
        || hnsw.Count <= last.AtCount * (1 - RecallEstimator.StaleChange);

    /// <inheritdoc />
    public void Dispose()
    {
        // Stop a running build and wait for it, so no thread is inside the gate or the graph when they go.
        _disposing.Cancel();
        foreach (var task in new[] { BuildCompletion, EstimateCompletion, ReconnectCompletion, CompactionCompletion })
        {
            try
            {
                task.Wait();
            }
            catch (AggregateException)
            {
                // Abandoned as asked, or already reported through BuildFailed.
            }
        }

        Volatile.Read(ref _hnsw)?.Dispose();
        Volatile.Read(ref _pending)?.Dispose();
        _resumeFrom?.Dispose();
        _gate.Dispose();
        _disposing.Dispose();
    }

    /// <summary>
    /// Starts a pass on the index threads that links in graph nodes no search reaches (<see cref="HnswVectorIndex.Reconnect"/>)
    /// when one is due (an eighth of the graph added since the last, or a graph read from a file) and none runs.
    /// With <paramref name="deferLoadedCheck"/>, the first check of a graph read from a file waits for a later call
    /// (it only looks for nodes an earlier version or the last eighth of growth left unlinked, and costs a walk over
    /// every node: at a million, 0.8 s of a core while the first queries arrive). Returns whether one started.
    /// </summary>
    public bool StartReconnectIfDue(bool deferLoadedCheck = false)
    {
        if (Hnsw is not { } hnsw || !ReconnectCompletion.IsCompleted || !hnsw.ReconnectDue || (deferLoadedCheck && hnsw.NeverReconnected) || Compacting)
        {
            return false;
        }

        Volatile.Write(ref _reconnect, ReconnectAsync(hnsw));
        return true;
    }

    private async Task ReconnectAsync(HnswVectorIndex hnsw)
    {
        try
        {
            var result = await _settings.Threads.RunAsync(hnsw.Reconnect, _disposing.Token).ConfigureAwait(false);
            _settings.Reconnected?.Invoke(result);
        }
        catch (OperationCanceledException) when (_disposing.IsCancellationRequested)
        {
            // Shutting down.
        }
    }

    private async Task EstimateAsync(HnswVectorIndex hnsw)
    {
        try
        {
            hnsw.Estimate = await RecallEstimator.EstimateAsync(
                hnsw.Graph, _settings.Threads, _settings.RecallSampleSize, _settings.RecallSeed, _disposing.Token).ConfigureAwait(false) ?? hnsw.Estimate;
        }
        catch (OperationCanceledException) when (_disposing.IsCancellationRequested)
        {
            // Shutting down.
        }
    }
}

/// <summary>What answers a set's searches.</summary>
internal enum SetIndexKind
{
    /// <summary>A scan of every vector (small sets).</summary>
    Exact = 1,

    /// <summary>A scan of every vector while the graph is built in the background.</summary>
    Building = 2,

    /// <summary>The HNSW graph.</summary>
    Hnsw = 3,
}

/// <summary>A set index's state for statistics.</summary>
/// <param name="Kind">What answers searches.</param>
/// <param name="Count">Vectors searchable.</param>
/// <param name="GraphCount">Vectors in the graph (while building: inserted so far, checkpoint included; while a batch of staged vectors is linked: before it).</param>
/// <param name="SearchBreadth">Default breadth of graph searches; 0 while searches are exact.</param>
/// <param name="Estimate">The latest recall estimate, null until one ran.</param>
internal sealed record IndexStatus(SetIndexKind Kind, int Count, int GraphCount, int SearchBreadth, RecallEstimate? Estimate)
{
    /// <summary>Gets the failure of the last HNSW build while no graph answers (null when none failed, or a later one took over).</summary>
    public IndexBuildFailure? LastBuildFailure { get; init; }
}

/// <summary>Why and when the last HNSW build of a set failed (its exception's message, never its stack trace).</summary>
/// <param name="Message">The exception's type and message.</param>
/// <param name="UnixMs">When it failed.</param>
internal sealed record IndexBuildFailure(string Message, long UnixMs);
