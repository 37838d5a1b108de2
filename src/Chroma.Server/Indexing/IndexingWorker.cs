using Chroma.Server.Indexing.Internal;
using Chroma.Server.Storage;

namespace Chroma.Server.Indexing;

/// <summary>
/// The background indexer: at start loads every set's index (saved file + catch-up, or a build from the
/// store); then, whenever a set is woken (a commit here, a notice of a commit elsewhere, a query waiting, or the poll
/// every <see cref="IndexingOptions.PollInterval"/>), reads the set's changes after the sequence its index
/// reflects from the store and applies them; saves changed indexes every
/// <see cref="IndexingOptions.SaveInterval"/> and on shutdown. Ingest never waits for it: commits only wake it. Heavy work (builds, large batches, saves) runs on the
/// dedicated index threads (<see cref="IndexingOptions.BuildThreads"/>), never on the thread pool.
/// </summary>
internal sealed class IndexingWorker : BackgroundService
{
    private readonly EmbeddingSetIndexes _indexes;
    private readonly IRecordStore _store;
    private readonly IndexingOptions _options;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger<IndexingWorker> _logger;

    /// <summary>Creates the worker.</summary>
    public IndexingWorker(EmbeddingSetIndexes indexes, IRecordStore store, IndexingOptions options, TimeProvider timeProvider, ILogger<IndexingWorker> logger)
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
        finally
        {
            _indexes.StartLoadEnded = true;
        }

        using var saveTimer = new PeriodicTimer(_options.SaveInterval, _timeProvider);
        using var pollTimer = new PeriodicTimer(_options.PollInterval, _timeProvider);
        var save = saveTimer.WaitForNextTickAsync(stoppingToken).AsTask();
        var poll = pollTimer.WaitForNextTickAsync(stoppingToken).AsTask();
        var work = _indexes.WaitForWorkAsync(stoppingToken).AsTask();
        try
        {
            while (true)
            {
                // Timers first: while a backlog keeps work ready, saves and polls still get their turn between rounds.
                var ready = await Task.WhenAny(save, poll, work).ConfigureAwait(false);
                if (ready == save)
                {
                    await save.ConfigureAwait(false);
                    await _indexes.StartSavesAsync().ConfigureAwait(false);
                    save = saveTimer.WaitForNextTickAsync(stoppingToken).AsTask();
                }
                else if (ready == poll)
                {
                    await poll.ConfigureAwait(false);
                    _indexes.Poll();
                    poll = pollTimer.WaitForNextTickAsync(stoppingToken).AsTask();
                }
                else
                {
                    if (!await work.ConfigureAwait(false))
                    {
                        break;
                    }

                    await _indexes.ApplyRoundAsync().ConfigureAwait(false);
                    work = _indexes.WaitForWorkAsync(stoppingToken).AsTask();
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Shutting down: fall through to the final round and save.
        }

        // One more turn per woken set, then save: what is still behind is read from the store after the restart
        // (the saved index records the sequence it reflects), so shutdown does not wait for a long backlog.
        await _indexes.ApplyRoundAsync().ConfigureAwait(false);
        await _indexes.SaveChangedAsync().ConfigureAwait(false);
    }
}
