namespace Chroma.Server.Recommendations.Scheduling;

/// <summary>
/// Which changed set the scoring worker scores next: one per turn, the most urgent of those due. A set is due one
/// debounce after its last change, or at the latest the max delay after its first; a set someone waits for (hurried:
/// its last change is <see cref="DateTimeOffset.MinValue"/>) is due at once and goes before the others; among the rest,
/// the one due longest, then the lowest key. Those left stay due for the next turn, so a request for a small set waits
/// at most for the pass running when it came, not behind every set's pass (after a restart every set is due at once).
/// </summary>
internal static class NextDueSet
{
    /// <summary>The set to score now (null when none is due), and how long until the next one is due (null when none waits).</summary>
    public static (long? Key, TimeSpan? Wait) Pick(
        IEnumerable<(long Key, DateTimeOffset FirstChange, DateTimeOffset LastChange)> changed, DateTimeOffset now, TimeSpan debounce, TimeSpan maxDelay)
    {
        ArgumentNullException.ThrowIfNull(changed);
        (long Key, bool Hurried, DateTimeOffset DueAt)? next = null;
        TimeSpan? wait = null;
        foreach (var (key, first, last) in changed)
        {
            var hurried = last == DateTimeOffset.MinValue;
            var byDebounce = hurried ? DateTimeOffset.MinValue : last + debounce;
            var byMaxDelay = first + maxDelay;
            var dueAt = byDebounce < byMaxDelay ? byDebounce : byMaxDelay;
            if (dueAt > now)
            {
                wait = wait is { } soonest && soonest <= dueAt - now ? soonest : dueAt - now;
            }
            else if (next is not { } best || (hurried && !best.Hurried) || (hurried == best.Hurried && (dueAt, key).CompareTo((best.DueAt, best.Key)) < 0))
            {
                next = (key, hurried, dueAt);
            }
        }

        return (next?.Key, wait);
    }
}
