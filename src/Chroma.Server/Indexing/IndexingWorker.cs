using Chroma.Server.Hosting;
using Chroma.Server.Indexing.Internal;
using Chroma.Server.Storage;

namespace Chroma.Server.Indexing;

/// <summary>
/// The background indexer: at start loads every set's index (saved file + catch-up, or a build from the
/// store); then applies committed changes as the store reports them, saves changed indexes every
/// <see cref="ChromaServerOptions.IndexSaveInterval"/>, and on shutdown applies what is queued and saves.
/// Ingest never waits for it: commit callbacks only queue. Heavy work (builds, large batches, saves) runs on the
/// dedicated index threads (<see cref="ChromaServerOptions.IndexBuildThreads"/>), never on the thread pool.
/// </summary>
internal sealed class IndexingWorker : BackgroundService
{
    private readonly EmbeddingSetIndexes _indexes;
    private readonly IRecordStore _store;
    private readonly ChromaServerOptions _options;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger<IndexingWorker> _logger;

    /// <summary>Creates the worker.</summary>
    public IndexingWorker(EmbeddingSetIndexes indexes, IRecordStore store, ChromaServerOptions options, TimeProvider timeProvider, ILogger<IndexingWorker> logger)
    {
        _indexes = indexes;
        _store = store;
        _options = options;
        _timeProvider = timeProvider;
        _logger = logger;
    }

    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // Off the start-up path: the server listens while indexes load (a query waits for its own set only).
        await Task.Yield();
        try
        {
            foreach (var summary in _store.ListSets())
            {
                stoppingToken.ThrowIfCancellationRequested();
                await _indexes.LoadAsync(summary.Set).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            return;
        }
#pragma warning disable CA1031 // A failed eager load is retried lazily by the first query of each set.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            IndexingLog.StartLoadFailed(_logger, ex);
        }

        using var timer = new PeriodicTimer(_options.IndexSaveInterval, _timeProvider);
        var tick = timer.WaitForNextTickAsync(stoppingToken).AsTask();
        var work = _indexes.WaitForWorkAsync(stoppingToken).AsTask();
        try
        {
            while (true)
            {
                if (await Task.WhenAny(work, tick).ConfigureAwait(false) == work)
                {
                    if (!await work.ConfigureAwait(false))
                    {
                        break;
                    }

                    await _indexes.ApplyQueuedAsync().ConfigureAwait(false);
                    work = _indexes.WaitForWorkAsync(stoppingToken).AsTask();
                }
                else
                {
                    await tick.ConfigureAwait(false);
                    await _indexes.SaveChangedAsync().ConfigureAwait(false);
                    tick = timer.WaitForNextTickAsync(stoppingToken).AsTask();
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Shutting down: fall through to the final apply and save.
        }

        await _indexes.ApplyQueuedAsync().ConfigureAwait(false);
        await _indexes.SaveChangedAsync().ConfigureAwait(false);
    }
}
