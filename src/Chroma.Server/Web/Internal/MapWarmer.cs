using Chroma.Server.Background.Internal;
using Chroma.Server.Services.Internal;
using Chroma.Server.Storage;
using Chroma.Server.Storage.Internal;

namespace Chroma.Server.Web.Internal;

/// <summary>
/// Keeps every set's PCA map (the one Studio opens with) projected in the background while Studio is on, so the
/// first page to open a map finds it ready instead of projecting every record in its request. A set is brought up to
/// date once its records have stopped changing for one <see cref="Interval"/> (so a running ingest is not slowed by
/// reads of what it just wrote) and the gRPC API has been quiet for <see cref="GrpcActivity.QuietPeriod"/> (so queries, above all
/// a restarted server's first ones, do not share the CPU and the store with a projection of every record), or has
/// been busy for <see cref="GrpcActivity.MaximumDeferral"/> without a pause; only the records new since the last pass are
/// projected. Failures are logged and retried on the next change. Sets under <see cref="MinimumRecords"/> are left to
/// the page: they project in milliseconds when asked. It runs on its own thread at the index builds' low priority,
/// never on the thread pool.
/// </summary>
internal sealed class MapWarmer : BackgroundService
{
    /// <summary>How often the sets are looked at, and how long one must be still before its map is updated.</summary>
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(1);

    /// <summary>The fewest live records a set needs before its map is kept projected in the background.</summary>
    public const long MinimumRecords = 10_000;

    private readonly IRecordStore _store;
    private readonly MapProjections _maps;
    private readonly TimeProvider _time;
    private readonly GrpcActivity _activity;
    private readonly ILogger<MapWarmer> _logger;
    private readonly StorageOutageLog _outageLog;
    private readonly Dictionary<string, long> _seen = new(StringComparer.Ordinal);
    private readonly Dictionary<string, long> _warmed = new(StringComparer.Ordinal);

    /// <summary>Creates the warmer over the store and the server's maps.</summary>
    public MapWarmer(IRecordStore store, MapProjections maps, TimeProvider time, GrpcActivity activity, ILogger<MapWarmer> logger)
    {
        _store = store;
        _maps = maps;
        _time = time;
        _activity = activity;
        _logger = logger;
        _outageLog = new StorageOutageLog(logger, "Studio's map warmer", time);
    }

    private int _warmedCount;

    // When settled maps began waiting for a quiet API (null while none waits).
    private long? _waitingSince;

    /// <summary>Gets how many passes projected a set (read by tests, from another thread).</summary>
    public int Warmed => Volatile.Read(ref _warmedCount);

    /// <summary>
    /// One look at every set: updates the maps of sets that changed before the last look and not since, once the API is
    /// quiet (or has kept them waiting for <see cref="GrpcActivity.MaximumDeferral"/>). The look reads each set's change sequence
    /// (one small row per set); records are counted only for a set that has just settled.
    /// </summary>
    public void Pass(CancellationToken cancellationToken = default)
    {
        var settled = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (setId, sequence) in _store.ReadLastSequences())
        {
            var still = _seen.TryGetValue(setId, out var previous) && previous == sequence;
            _seen[setId] = sequence;
            if (still && !(_warmed.TryGetValue(setId, out var done) && done == sequence))
            {
                settled.Add(setId);
            }
        }

        if (settled.Count == 0)
        {
            _waitingSince = null;
            return;
        }

        _waitingSince ??= _time.GetTimestamp();
        if (!_activity.MayRunDeferred(_waitingSince.Value))
        {
            return;
        }

        _waitingSince = null;

        foreach (var summary in _store.ListSets())
        {
            cancellationToken.ThrowIfCancellationRequested();
            var setId = summary.Set.SetId;
            if (!settled.Contains(setId))
            {
                continue;
            }

            // A small set is settled too: remember it, so it is not counted again until it changes.
            _warmed[setId] = _seen[setId];
            if (summary.TotalRecords < MinimumRecords)
            {
                continue;
            }

            try
            {
                _maps.Read(summary.Set, MapProjectionKind.Pca);
                Interlocked.Increment(ref _warmedCount);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                _warmed.Remove(setId);
                if (cancellationToken.IsCancellationRequested)
                {
                    // The server stopped under the projection (its store disposed): nothing failed.
                    return;
                }

                if (!_outageLog.TryLog(e))
                {
                    StudioLog.MapWarmFailed(_logger, e, setId);
                }
            }
        }
    }

    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // A dedicated thread below requests and scoring (projecting a large set is seconds of CPU): never a thread-pool
        // thread, which serves requests.
        var run = Task.Factory.StartNew(() => Run(stoppingToken), stoppingToken, TaskCreationOptions.LongRunning, TaskScheduler.Default);

        // A stop does not wait for a projection under way: it only reads, and at a million records it took the whole
        // shutdown timeout (outside-in probe 7). Its thread, a background one, ends with the process.
        var first = await Task.WhenAny(run, Task.Delay(Timeout.Infinite, stoppingToken)).ConfigureAwait(false);
        if (first == run)
        {
            await run.ConfigureAwait(false); // an unexpected end of the loop is the host's to see
        }
    }

    private void Run(CancellationToken stoppingToken)
    {
        Thread.CurrentThread.Name = "chroma-map-warmer";
        BackgroundThreadPriority.LowerCurrentThread(BackgroundThreadPriority.IndexBuild);
        using var timer = new PeriodicTimer(Interval, _time);
        try
        {
            while (timer.WaitForNextTickAsync(stoppingToken).AsTask().GetAwaiter().GetResult())
            {
                try
                {
                    Pass(stoppingToken);
                    _outageLog.Succeeded();
                }
                catch (Exception e) when (e is not OperationCanceledException && !stoppingToken.IsCancellationRequested)
                {
                    if (!_outageLog.TryLog(e))
                    {
                        StudioLog.ListingSetsFailed(_logger, e);
                    }
                }
                catch (Exception) when (stoppingToken.IsCancellationRequested)
                {
                    return; // the server stopped under the pass: nothing failed
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping.
        }
    }
}
