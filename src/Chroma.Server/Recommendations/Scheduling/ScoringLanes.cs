namespace Chroma.Server.Recommendations.Scheduling;

/// <summary>
/// The scoring worker's lanes: which sets' passes run now, and whether a due set's pass may start. At most
/// <see cref="ScoringOptions.ConcurrentPasses"/> passes run at once, one per set. A set whose last pass took
/// <see cref="SlowPass"/> or more is slow; once all lanes but one run slow passes (a pass running that long counts as
/// slow too, whatever its set's last one took), a slow set waits and the last lane is kept for the others, so a wide set
/// refitting or a large set rescoring never holds up every other set's ranking. Not thread-safe: the scheduler calls it
/// under its own lock.
/// </summary>
internal sealed class ScoringLanes
{
    /// <summary>How long a pass must take for its set to count as slow: 5 seconds.</summary>
    public static readonly TimeSpan SlowPass = TimeSpan.FromSeconds(5);

    private readonly Dictionary<long, long> _running = [];
    private readonly HashSet<long> _slowSets = [];
    private readonly TimeProvider _time;

    /// <summary>Creates <paramref name="lanes"/> lanes (at least 1), timed by <paramref name="time"/>.</summary>
    public ScoringLanes(int lanes, TimeProvider time)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(lanes, 1);
        ArgumentNullException.ThrowIfNull(time);
        Lanes = lanes;
        _time = time;
    }

    /// <summary>Gets how many passes may run at once.</summary>
    public int Lanes { get; }

    /// <summary>Gets how many passes run now.</summary>
    public int Running => _running.Count;

    /// <summary>Gets whether every lane runs a pass.</summary>
    public bool Full => _running.Count >= Lanes;

    /// <summary>Whether the set <paramref name="key"/> has a pass running now.</summary>
    public bool IsRunning(long key) => _running.ContainsKey(key);

    /// <summary>Whether the set <paramref name="key"/> took <see cref="SlowPass"/> or more in its last pass.</summary>
    public bool IsSlow(long key) => _slowSets.Contains(key);

    /// <summary>Whether a pass of the set <paramref name="key"/> may start now: it runs none, a lane is free, and it is not a slow set kept out of the last lane.</summary>
    public bool MayStart(long key)
    {
        if (_running.ContainsKey(key) || Full)
        {
            return false;
        }

        return Lanes == 1 || !_slowSets.Contains(key) || SlowRunning() < Lanes - 1;
    }

    /// <summary>Notes that a pass of the set <paramref name="key"/> starts.</summary>
    public void Started(long key) => _running[key] = _time.GetTimestamp();

    /// <summary>Notes that the pass of the set <paramref name="key"/> ended, and whether the set is slow from now on.</summary>
    /// <returns>How long the pass took.</returns>
    public TimeSpan Ended(long key)
    {
        if (!_running.Remove(key, out var started))
        {
            return TimeSpan.Zero;
        }

        var took = _time.GetElapsedTime(started);
        if (took >= SlowPass)
        {
            _slowSets.Add(key);
        }
        else
        {
            _slowSets.Remove(key);
        }

        return took;
    }

    private int SlowRunning()
    {
        var slow = 0;
        foreach (var (key, started) in _running)
        {
            if (_slowSets.Contains(key) || _time.GetElapsedTime(started) >= SlowPass)
            {
                slow++;
            }
        }

        return slow;
    }
}
