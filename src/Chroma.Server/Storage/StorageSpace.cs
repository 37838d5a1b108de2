namespace Chroma.Server.Storage;

/// <summary>
/// Whether the store can write: full from a write that failed for lack of space (or <see cref="IsUnwritable"/>, from one
/// the file system refused: read-only, failing) until a write succeeds again.
/// While full, <see cref="ProbeAsync"/> tries a small real write (at most once per <see cref="ProbeInterval"/>), so
/// readiness comes back when space does even if no client is writing. Read by the ingest readiness health check.
/// The first write that succeeds after a refusal tells <paramref name="logger"/>, so the log says when ingest resumed.
/// </summary>
internal sealed partial class StorageSpace(TimeProvider timeProvider, ILogger? logger = null)
{
    /// <summary>The shortest time between two probe writes while full.</summary>
    public static readonly TimeSpan ProbeInterval = TimeSpan.FromSeconds(1);

    private readonly ILogger _logger = logger ?? Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance;
    private readonly Lock _lock = new();
    private Func<CancellationToken, Task<bool>>? _probe;
    private DateTimeOffset? _fullSince;
    private DateTimeOffset _lastProbe = DateTimeOffset.MinValue;
    private long _neededBytes;
    private bool _unwritable;

    /// <summary>Gets a value indicating whether the last write failed for lack of space, or because the file system refused it.</summary>
    public bool IsFull => FullSince is not null;

    /// <summary>
    /// Gets a value indicating whether the last write failed because the file system refused it (read-only, failing:
    /// SQLite's disk I/O error), not for lack of space. <see cref="IsFull"/> is then true too: ingest is refused alike.
    /// </summary>
    public bool IsUnwritable
    {
        get
        {
            lock (_lock)
            {
                return _unwritable && _fullSince is not null;
            }
        }
    }

    /// <summary>Gets when writes started failing for lack of space, or <see langword="null"/> while there is room.</summary>
    public DateTimeOffset? FullSince
    {
        get
        {
            lock (_lock)
            {
                return _fullSince;
            }
        }
    }

    /// <summary>
    /// Gets about how many bytes the write that failed needed: the probe first asks the file system for at least this
    /// much free space, so a disk with a few pages left is not reported ready for batches that cannot fit.
    /// </summary>
    public long NeededBytes
    {
        get
        {
            lock (_lock)
            {
                return _neededBytes;
            }
        }
    }

    /// <summary>Records that a write of about <paramref name="neededBytes"/> failed because the storage is full.</summary>
    public void ReportFull(long neededBytes)
    {
        lock (_lock)
        {
            _fullSince ??= timeProvider.GetUtcNow();
            _neededBytes = Math.Max(_neededBytes, neededBytes);
        }
    }

    /// <summary>Records that a write failed because the file system refused it (read-only, failing), not for lack of space.</summary>
    public void ReportUnwritable()
    {
        lock (_lock)
        {
            _fullSince ??= timeProvider.GetUtcNow();
            _unwritable = true;
        }
    }

    /// <summary>Records that a write succeeded.</summary>
    public void ReportWritten()
    {
        DateTimeOffset? fullSince;
        bool unwritable;
        lock (_lock)
        {
            fullSince = _fullSince;
            unwritable = _unwritable;
            _fullSince = null;
            _neededBytes = 0;
            _unwritable = false;
        }

        if (fullSince is { } since)
        {
            var duration = TimeSpan.FromSeconds(Math.Round((timeProvider.GetUtcNow() - since).TotalSeconds));
            if (unwritable)
            {
                WritableAgain(_logger, since, duration);
            }
            else
            {
                SpaceBack(_logger, since, duration);
            }
        }
    }

    /// <summary>Sets the store's probe: a small real write that reports its own outcome here.</summary>
    public void UseProbe(Func<CancellationToken, Task<bool>> probe)
    {
        lock (_lock)
        {
            _probe = probe;
        }
    }

    /// <summary>While full, tries the probe write (at most once per <see cref="ProbeInterval"/>); returns whether there is room.</summary>
    public async Task<bool> ProbeAsync(CancellationToken cancellationToken = default)
    {
        Func<CancellationToken, Task<bool>>? probe;
        lock (_lock)
        {
            if (_fullSince is null)
            {
                return true;
            }

            var now = timeProvider.GetUtcNow();
            probe = now - _lastProbe >= ProbeInterval ? _probe : null;
            if (probe is null)
            {
                return false;
            }

            _lastProbe = now;
        }

        return await probe(cancellationToken).ConfigureAwait(false);
    }

    [LoggerMessage(EventId = 23, Level = LogLevel.Information,
        Message = "The disk has room again: a write succeeded after writes were refused for lack of space since {Since:u} ({Duration}); ingest resumed")]
    private static partial void SpaceBack(ILogger logger, DateTimeOffset since, TimeSpan duration);

    [LoggerMessage(EventId = 28, Level = LogLevel.Information,
        Message = "The data directory can be written again: a write succeeded after the file system refused writes since {Since:u} ({Duration}); ingest resumed")]
    private static partial void WritableAgain(ILogger logger, DateTimeOffset since, TimeSpan duration);
}
