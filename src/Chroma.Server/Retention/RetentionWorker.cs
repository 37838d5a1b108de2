using Chroma.Server.Storage;

namespace Chroma.Server.Retention;

/// <summary>
/// Applies the retention rules (<see cref="RetentionOptions"/>) in the background: <see cref="FirstRunDelay"/> after
/// the start, then every <see cref="RetentionOptions.Interval"/>. Each rule deletes the matching records in batches of
/// <see cref="RetentionOptions.BatchSize"/> through <see cref="IRecordStore.DeleteAsync"/>, the path every delete takes,
/// so tombstones, the index, the scores and the counts follow through the store's change observers. With several
/// replicas on one database only the one that enters the retention run (an advisory lock) applies them.
/// </summary>
internal sealed class RetentionWorker : BackgroundService
{
    /// <summary>How long after the start the first run begins.</summary>
    public static readonly TimeSpan FirstRunDelay = TimeSpan.FromSeconds(5);

    private readonly IRecordStore _store;
    private readonly IReplicaCoordination _coordination;
    private readonly RetentionOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger<RetentionWorker> _logger;

    /// <summary>Creates the worker.</summary>
    public RetentionWorker(IRecordStore store, IReplicaCoordination coordination, RetentionOptions options, TimeProvider time, ILogger<RetentionWorker> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        _store = store;
        _coordination = coordination;
        _options = options;
        _time = time;
        _logger = logger;
    }

    /// <summary>Raised after every run with the records it deleted, or null when another replica was running them.</summary>
    public event Action<long?>? RunCompleted;

    /// <summary>
    /// Applies every rule once; returns how many records were deleted, or null when another replica is applying them.
    /// </summary>
    public async Task<long?> RunOnceAsync(CancellationToken cancellationToken = default)
    {
        var entered = await _coordination.TryEnterRetentionAsync(cancellationToken).ConfigureAwait(false);
        if (entered is null)
        {
            RetentionLog.RunElsewhere(_logger);
            return null;
        }

        await using (entered.ConfigureAwait(false))
        {
            long total = 0;
            var now = _time.GetUtcNow();
            foreach (var summary in _store.ListSets())
            {
                foreach (var rule in _options.RulesFor(summary.Set.SetId))
                {
                    var deleted = await ApplyAsync(summary.Set, rule, (now - rule.MaxAge).ToUnixTimeMilliseconds(), cancellationToken).ConfigureAwait(false);
                    await _coordination.SaveRetentionRunAsync(
                        new RetentionRun(summary.Set.Key, rule.Dataset!, _time.GetUtcNow().ToUnixTimeMilliseconds(), deleted, deleted),
                        cancellationToken).ConfigureAwait(false);
                    if (deleted > 0)
                    {
                        RetentionLog.Deleted(_logger, deleted, summary.Set.SetId, rule.Dataset!, rule.MaxAge);
                    }

                    total += deleted;
                }
            }

            return total;
        }
    }

    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (_options.Rules.Count == 0)
        {
            return;
        }

        var delay = FirstRunDelay;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(delay, _time, stoppingToken).ConfigureAwait(false);
                delay = _options.Interval;
                // Run first, then notify: in `RunCompleted?.Invoke(await RunOnceAsync())` the argument is not
                // evaluated when nobody listens, so the rules would never run in a server without a subscriber.
                var deleted = await RunOnceAsync(stoppingToken).ConfigureAwait(false);
                RunCompleted?.Invoke(deleted);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
#pragma warning disable CA1031 // The database may be down: the next run tries again; the server keeps serving.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                RetentionLog.RunFailed(_logger, ex, (long)_options.Interval.TotalSeconds);
            }
        }
    }

    private async Task<long> ApplyAsync(StoredEmbeddingSet set, RetentionRule rule, long beforeUnixMs, CancellationToken cancellationToken)
    {
        long deleted = 0;
        while (true)
        {
            var ids = _store.FindExpiredIds(set, rule.Dataset!, beforeUnixMs, _options.BatchSize);
            if (ids.Count == 0)
            {
                return deleted;
            }

            deleted += await _store.DeleteAsync(set, ids, cancellationToken).ConfigureAwait(false);
            if (ids.Count < _options.BatchSize)
            {
                return deleted;
            }
        }
    }
}
