using System.Collections.Concurrent;

namespace Chroma.Server.Storage;

/// <summary>
/// <see cref="IReplicaCoordination"/> for a database only this process writes (SQLite): every lease is granted at
/// once with the same generation, nothing needs polling, and retention runs are remembered in memory (since the start).
/// </summary>
internal sealed class ProcessLocalCoordination : IReplicaCoordination
{
    private readonly ConcurrentDictionary<(long SetKey, string Dataset), RetentionRun> _runs = new();
    private readonly ConcurrentDictionary<long, long> _revisions = new();
    private int _retentionRunning;

    /// <inheritdoc />
    public bool Shared => false;

    /// <inheritdoc />
    public Task<ScoringLease?> TryAcquireAsync(StoredEmbeddingSet set, string holder, TimeSpan duration, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(set);
        return Task.FromResult<ScoringLease?>(new ScoringLease(set.Key, holder, 1, long.MaxValue));
    }

    /// <inheritdoc />
    public Task<bool> RenewAsync(ScoringLease lease, TimeSpan duration, CancellationToken cancellationToken = default) => Task.FromResult(true);

    /// <inheritdoc />
    public Task ReleaseAsync(ScoringLease lease, CancellationToken cancellationToken = default) => Task.CompletedTask;

    /// <inheritdoc />
    public Task<long?> PublishPassAsync(ScoringLease lease, long coveredThrough, long deletesApplied, long computedUnixMs, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(lease);
        return Task.FromResult<long?>(_revisions.AddOrUpdate(lease.SetKey, 1, (_, r) => r + 1));
    }

    /// <inheritdoc />
    public Task RecordFailureAsync(ScoringLease lease, Recommendations.Scheduling.ScoringFailure failure, CancellationToken cancellationToken = default) =>
        Task.CompletedTask; // One process: the scheduler's own state is what every request reads.

    /// <inheritdoc />
    public Task RequestPassAsync(StoredEmbeddingSet set, long throughSequence, long throughDeletes, CancellationToken cancellationToken = default) =>
        Task.CompletedTask;

    /// <inheritdoc />
    public IReadOnlyList<SetWatermark> ReadWatermarks() => [];

    /// <inheritdoc />
    public Task<SetDeletes> ReadDeletesAsync(StoredEmbeddingSet set, long afterStamp, CancellationToken cancellationToken = default) =>
        Task.FromResult(new SetDeletes(0, 0, []));

    /// <inheritdoc />
    public Task<SetAcknowledged> ReadAcknowledgedAsync(StoredEmbeddingSet set, CancellationToken cancellationToken = default) =>
        Task.FromResult(new SetAcknowledged(0, 0));

    /// <inheritdoc />
    public Task<IAsyncDisposable?> TryEnterRetentionAsync(CancellationToken cancellationToken = default) =>
        Task.FromResult<IAsyncDisposable?>(Interlocked.CompareExchange(ref _retentionRunning, 1, 0) == 0 ? new Exit(this) : null);

    /// <inheritdoc />
    public Task SaveRetentionRunAsync(RetentionRun run, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(run);
        var first = run with { DeletedTotal = run.Deleted };
        _runs.AddOrUpdate((run.SetKey, run.Dataset), first, (_, previous) => run with { DeletedTotal = previous.DeletedTotal + run.Deleted });
        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public IReadOnlyList<RetentionRun> ReadRetentionRuns() => [.. _runs.Values];

    private sealed class Exit(ProcessLocalCoordination owner) : IAsyncDisposable
    {
        private int _done;

        public ValueTask DisposeAsync()
        {
            if (Interlocked.Exchange(ref _done, 1) == 0)
            {
                Volatile.Write(ref owner._retentionRunning, 0);
            }

            return ValueTask.CompletedTask;
        }
    }
}
