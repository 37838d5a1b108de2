using Chroma.Server.Storage;

namespace Chroma.Server.Retention;

/// <summary>
/// Applies the retention rules (<see cref="RetentionOptions"/>) in the background: <see cref="FirstRunDelay"/> after
/// the start, then every <see cref="RetentionOptions.Interval"/>. Each rule deletes the matching records in batches of
/// <see cref="RetentionOptions.BatchSize"/> through <see cref="IRecordStore.DeleteUnlabeledAsync"/>, the path every delete
/// takes with the label check repeated in the delete (a record labeled after the ids were read stays), so tombstones, the index, the scores and the counts follow through the store's change observers. With several
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
    private readonly HashSet<RetentionRule> _warnedNoDataset = [];
    private readonly HashSet<RetentionRule> _datasetSeen = [];

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
            var covered = new Dictionary<RetentionRule, SortedSet<string>>();
            foreach (var summary in _store.ListSets())
            {
                foreach (var rule in _options.RulesFor(summary.Set.SetId))
                {
                    NoteDatasets(covered, rule, summary);
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

            WarnOfRulesWithoutTheirDataset(covered);
            return total;
        }
    }

    // Which datasets the sets a rule covers hold, and whether one holds the rule's (ever, while the server runs).
    private void NoteDatasets(Dictionary<RetentionRule, SortedSet<string>> covered, RetentionRule rule, EmbeddingSetSummary summary)
    {
        var datasets = covered.TryGetValue(rule, out var known) ? known : covered[rule] = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var (dataset, _) in summary.DatasetCounts)
        {
            datasets.Add(dataset);
            if (string.Equals(dataset, rule.Dataset, StringComparison.Ordinal))
            {
                _datasetSeen.Add(rule);
            }
        }
    }

    // A rule whose dataset no set it covers holds (a misspelt name: "prodution") deletes nothing, silently: said once per
    // rule while the server runs, and only while the dataset was never seen (a rule that emptied its dataset is no
    // news). Datasets are named by the clients, so the message asks to check the name rather than calling it an error.
    private void WarnOfRulesWithoutTheirDataset(Dictionary<RetentionRule, SortedSet<string>> covered)
    {
        foreach (var (rule, datasets) in covered)
        {
            if (!_datasetSeen.Contains(rule) && datasets.Count > 0 && _warnedNoDataset.Add(rule))
            {
                var index = _options.Rules.IndexOf(rule);
                RetentionLog.NoSuchDataset(_logger, index, rule.Set!, rule.Dataset!, string.Join(", ", datasets));
            }
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

            deleted += await _store.DeleteUnlabeledAsync(set, ids, cancellationToken).ConfigureAwait(false);
            if (ids.Count < _options.BatchSize)
            {
                return deleted;
            }
        }
    }
}
