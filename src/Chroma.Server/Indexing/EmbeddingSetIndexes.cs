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
    private long _catchUpTimeouts;

    /// <summary>Creates the registry over <paramref name="store"/>; indexes are saved under the options' data directory.</summary>
    public EmbeddingSetIndexes(IRecordStore store, ChromaServerOptions options, TimeProvider timeProvider, ILogger<EmbeddingSetIndexes> logger)
    {
        _store = store;
        _options = options;
        _timeProvider = timeProvider;
        _logger = logger;
        IndexDirectory = Path.Combine(Path.GetFullPath(options.DataDirectory), "indexes");
    }

    /// <summary>Gets the folder the set indexes are saved in.</summary>
    public string IndexDirectory { get; }

    /// <summary>Gets how many searches answered before the index had caught up (the wait timed out).</summary>
    public long CatchUpTimeouts => Interlocked.Read(ref _catchUpTimeouts);

    /// <summary>The <paramref name="k"/> nearest live records of <paramref name="set"/>, nearest first.</summary>
    public async Task<IReadOnlyList<VectorNeighbor>> SearchAsync(
        StoredEmbeddingSet set, float[] query, int k, string? dataset, CancellationToken cancellationToken = default)
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

        return index.Search(query, k, dataset);
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
                    Apply(entry, index, change);
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
                IndexingLog.BuildStarted(_logger, entry.Set.SetId, index.Count);
            }
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _work.Writer.TryComplete();
        foreach (var entry in _entries.Values)
        {
            entry.LoadedIndex?.Dispose();
        }
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

    private static void Apply(SetIndexEntry entry, AdaptiveVectorIndex index, IndexChange change)
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
            // Graph inserts are thread-safe and cost ~0.2-0.5 ms each: spread a large batch over the cores.
            Parallel.ForEach(inserted, r => index.Add(r.Sequence, r.Record.Vector, r.Record.Dataset));
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
