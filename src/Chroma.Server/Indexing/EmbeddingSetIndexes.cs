using System.Collections.Concurrent;
using System.Threading.Channels;
using Chroma.Server.Hosting;
using Chroma.Server.Indexing.Internal;
using Chroma.Server.Storage;

namespace Chroma.Server.Indexing;

/// <summary>
/// One <see cref="AdaptiveVectorIndex"/> per embedding set, fed from the durable store off the ingest path:
/// the store's commit callbacks (<see cref="OnRecordsStored"/>, <see cref="OnRecordsDeleted"/>) only queue the
/// change, and the <see cref="IndexingWorker"/> applies it. A search first waits (up to
/// <see cref="ChromaServerOptions.IndexCatchUpTimeout"/>) until every change queued before it is applied, so a
/// record is findable as soon as its batch is acknowledged.
/// </summary>
internal sealed partial class EmbeddingSetIndexes : IRecordChangeObserver, IDisposable
{
    /// <summary>Batches at least this large are inserted into a graph from several threads.</summary>
    private const int ParallelInsertMinimum = 256;

    private readonly IRecordStore _store;
    private readonly ChromaServerOptions _options;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger<EmbeddingSetIndexes> _logger;
    private readonly ConcurrentDictionary<long, SetIndexEntry> _entries = new();
    private readonly Channel<SetIndexEntry> _work = Channel.CreateUnbounded<SetIndexEntry>(new UnboundedChannelOptions { SingleReader = true });
    private readonly IndexBuildThreads _threads;
    private long _catchUpTimeouts;

    /// <summary>Creates the registry over <paramref name="store"/>; indexes are saved under the options' data directory.</summary>
    public EmbeddingSetIndexes(IRecordStore store, ChromaServerOptions options, TimeProvider timeProvider, ILogger<EmbeddingSetIndexes> logger)
    {
        _store = store;
        _options = options;
        _timeProvider = timeProvider;
        _logger = logger;
        IndexDirectory = Path.Combine(Path.GetFullPath(options.DataDirectory), "indexes");
        _threads = new IndexBuildThreads(options.IndexBuildThreads > 0 ? options.IndexBuildThreads : IndexBuildThreads.DefaultCount);
    }

    /// <summary>Gets the dedicated threads index work runs on.</summary>
    public IndexBuildThreads Threads => _threads;

    /// <summary>
    /// Gets or sets a hook awaited after every step of every background build (tests drive builds with it);
    /// set it before the first set is loaded. The default value is null.
    /// </summary>
    public Func<IndexBuildStep, CancellationToken, ValueTask>? BuildStepObserver { get; set; }

    /// <summary>Gets or sets how many vectors one build step inserts. The default value is 8 192.</summary>
    public int BuildStepSize { get; set; } = 8_192;

    /// <summary>Gets the folder the set indexes are saved in.</summary>
    public string IndexDirectory { get; }

    /// <summary>Gets how many searches answered before the index had caught up (the wait timed out).</summary>
    public long CatchUpTimeouts => Interlocked.Read(ref _catchUpTimeouts);

    /// <summary>The <paramref name="k"/> nearest live records of <paramref name="set"/>, nearest first.</summary>
    public Task<IReadOnlyList<VectorNeighbor>> SearchAsync(
        StoredEmbeddingSet set, float[] query, int k, string? dataset, CancellationToken cancellationToken = default) =>
        SearchAsync(set, query, k, dataset, default, cancellationToken);

    /// <summary>The <paramref name="k"/> nearest live records of <paramref name="set"/>, nearest first, searched as <paramref name="options"/> say.</summary>
    public async Task<IReadOnlyList<VectorNeighbor>> SearchAsync(
        StoredEmbeddingSet set, float[] query, int k, string? dataset, NearestSearchOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(set);
        ArgumentNullException.ThrowIfNull(query);
        var entry = Entry(set);
        var target = entry.Enqueued;
        var index = await entry.LoadAsync().WaitAsync(cancellationToken).ConfigureAwait(false);
        if (entry.Applied < target
            && !await entry.WaitAppliedAsync(target, _options.IndexCatchUpTimeout, _timeProvider, cancellationToken).ConfigureAwait(false))
        {
            Interlocked.Increment(ref _catchUpTimeouts);
            IndexingLog.CatchUpTimedOut(_logger, set.SetId, target - entry.Applied, _options.IndexCatchUpTimeout);
        }

        return index.Search(query, k, dataset, options);
    }

    /// <summary>The state of the set's index (kind, size, search breadth, recall estimate), or null while it is not loaded.</summary>
    public IndexStatus? GetStatus(StoredEmbeddingSet set)
    {
        ArgumentNullException.ThrowIfNull(set);
        return _entries.TryGetValue(set.Key, out var entry) ? entry.LoadedIndex?.Status() : null;
    }

    /// <inheritdoc />
    public int Order => RecordChangeOrder.Index;

    /// <summary>Queues newly committed records for the worker. Runs inside the store's commit: must not block.</summary>
    public void OnRecordsStored(StoredEmbeddingSet set, IReadOnlyList<InsertedRecord> inserted)
    {
        ArgumentNullException.ThrowIfNull(set);
        ArgumentNullException.ThrowIfNull(inserted);
        Enqueue(set, new IndexChange(inserted, null));
    }

    /// <summary>Queues deleted records for the worker. Runs inside the store's commit: must not block.</summary>
    public void OnRecordsDeleted(StoredEmbeddingSet set, IReadOnlyList<long> sequences)
    {
        ArgumentNullException.ThrowIfNull(set);
        ArgumentNullException.ThrowIfNull(sequences);
        Enqueue(set, new IndexChange(null, sequences));
    }

    /// <summary>Loads the set's index (from its file, else from the store) unless it is loaded already.</summary>
    public Task<AdaptiveVectorIndex> LoadAsync(StoredEmbeddingSet set) => Entry(set).LoadAsync();

    /// <summary>How the set's index was loaded, or null while it is not.</summary>
    public IndexLoadReport? GetLoadReport(StoredEmbeddingSet set)
    {
        ArgumentNullException.ThrowIfNull(set);
        return _entries.TryGetValue(set.Key, out var entry) ? entry.LoadReport : null;
    }

    /// <summary>Waits until a change is queued; false once no more can come.</summary>
    public ValueTask<bool> WaitForWorkAsync(CancellationToken cancellationToken = default) =>
        _work.Reader.WaitToReadAsync(cancellationToken);

    /// <summary>Applies every queued change (the worker's job; one caller at a time).</summary>
    public async Task ApplyQueuedAsync()
    {
        var saveRequested = false;
        while (_work.Reader.TryRead(out var entry))
        {
            AdaptiveVectorIndex index;
            try
            {
                index = await entry.LoadAsync().ConfigureAwait(false);
            }
#pragma warning disable CA1031 // The worker must outlive a failed load: the set's next change or query retries it.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                IndexingLog.LoadFailed(_logger, entry.Set.SetId, ex);
                continue;
            }

            while (entry.Pending.TryDequeue(out var change))
            {
                try
                {
                    await ApplyAsync(entry, index, change).ConfigureAwait(false);
                }
#pragma warning disable CA1031 // One bad change must not stop indexing of every later one (or hang waiting queries).
                catch (Exception ex)
#pragma warning restore CA1031
                {
                    IndexingLog.ApplyFailed(_logger, entry.Set.SetId, ex);
                }

                entry.Version++;
                entry.MarkApplied();
            }

            if (index.StartBuildIfLarge())
            {
                IndexingLog.BuildStarted(_logger, entry.Set.SetId, index.Count, index.ResumedVectors);
            }

            index.StartEstimateIfStale();
            saveRequested |= entry.SaveRequested;
        }

        if (saveRequested)
        {
            // A build just finished: save it now rather than at the next tick, so a crash soon after keeps it.
            await SaveChangedAsync().ConfigureAwait(false);
        }
    }

    /// <summary>Runs <see cref="SaveChanged"/> on the index threads (a save of a large graph takes seconds).</summary>
    public Task<int> SaveChangedAsync() => _threads.RunAsync(SaveChanged);

    /// <inheritdoc />
    public void Dispose()
    {
        _work.Writer.TryComplete();
        foreach (var entry in _entries.Values)
        {
            entry.LoadedIndex?.Dispose();
        }

        _threads.Dispose();
    }

    private SetIndexEntry Entry(StoredEmbeddingSet set) =>
        _entries.GetOrAdd(set.Key, static (_, state) => new SetIndexEntry(state.Set, state.Self.Load), (Set: set, Self: this));

    private void Enqueue(StoredEmbeddingSet set, IndexChange change)
    {
        var entry = Entry(set);

        // The change goes in before the count: a query that sees the count finds the change queued.
        entry.Pending.Enqueue(change);
        entry.MarkEnqueued();
        _work.Writer.TryWrite(entry);
    }

    private async Task ApplyAsync(SetIndexEntry entry, AdaptiveVectorIndex index, IndexChange change)
    {
        if (change.Deleted is { } deleted)
        {
            foreach (var sequence in deleted)
            {
                index.Remove(sequence);
            }

            return;
        }

        // A load that ran after this commit already read these records.
        var inserted = change.Inserted!.Where(r => r.Sequence > entry.LoadedThroughSequence).ToArray();
        if (inserted.Length >= ParallelInsertMinimum && index.Hnsw is not null)
        {
            // Graph inserts are thread-safe and cost ~0.2-0.5 ms each: spread a large batch over the index threads.
            await _threads.ForAsync(inserted.Length, i => index.Add(inserted[i].Sequence, inserted[i].Record.Vector, inserted[i].Record.Dataset)).ConfigureAwait(false);
        }
        else
        {
            foreach (var record in inserted)
            {
                index.Add(record.Sequence, record.Record.Vector, record.Record.Dataset);
            }
        }

        if (inserted.Length > 0)
        {
            entry.IndexedThroughSequence = Math.Max(entry.IndexedThroughSequence, inserted[^1].Sequence);
        }
    }
}
