using Chroma.Server.Storage;

namespace Chroma.Server.Web.Internal;

/// <summary>
/// Keeps every set's PCA map (the one Studio opens with) projected in the background while Studio is on, so the
/// first page to open a map finds it ready instead of projecting every record in its request. A set is brought up to
/// date once its records have stopped changing for one <see cref="Interval"/> (so a running ingest is not slowed by
/// reads of what it just wrote); only the records new since the last pass are projected. Failures are logged and
/// retried on the next change. Sets under <see cref="MinimumRecords"/> are left to the page: they project in
/// milliseconds when asked.
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
    private readonly ILogger<MapWarmer> _logger;
    private readonly Dictionary<long, (long Total, long Updated)> _seen = [];
    private readonly Dictionary<long, (long Total, long Updated)> _warmed = [];

    /// <summary>Creates the warmer over the store and the server's maps.</summary>
    public MapWarmer(IRecordStore store, MapProjections maps, TimeProvider time, ILogger<MapWarmer> logger)
    {
        _store = store;
        _maps = maps;
        _time = time;
        _logger = logger;
    }

    /// <summary>Gets how many passes projected a set (read by tests).</summary>
    public int Warmed { get; private set; }

    /// <summary>One look at every set: updates the maps of sets that changed before the last look and not since.</summary>
    public void Pass(CancellationToken cancellationToken = default)
    {
        foreach (var summary in _store.ListSets())
        {
            cancellationToken.ThrowIfCancellationRequested();
            var key = summary.Set.Key;
            var state = (summary.TotalRecords, summary.UpdatedUnixMs);
            if (summary.TotalRecords < MinimumRecords)
            {
                continue;
            }

            var still = _seen.TryGetValue(key, out var previous) && previous == state;
            _seen[key] = state;
            if (!still || (_warmed.TryGetValue(key, out var done) && done == state))
            {
                continue;
            }

            try
            {
                _maps.Read(summary.Set, MapProjectionKind.Pca);
                _warmed[key] = state;
                Warmed++;
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                StudioLog.MapWarmFailed(_logger, e, summary.Set.SetId);
            }
        }
    }

    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Interval, _time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
            {
                try
                {
                    Pass(stoppingToken);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    StudioLog.MapWarmFailed(_logger, e, "(listing sets)");
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping.
        }
    }
}
