using System.Diagnostics;

namespace Chroma.Server.Indexing.Internal;

/// <summary>
/// Hands memory the collector has freed back to the operating system. After a large build takes over, the exact
/// index and the build's snapshot (the set's vectors once more: 512 MiB for a million 128-d records) are garbage; a
/// background collection frees them, but the collector may keep the freed memory committed for later allocations, so
/// the process stays near its build peak. An aggressive collection decommits what it can, at the cost of one blocking,
/// compacting collection (the graph's vectors and links are on the pinned heap and are not moved). Measured after a
/// scratch build of a million 128-d records (benchmarks README): 58-83 ms, 61-295 MiB returned; the exact index's own
/// 512 MiB block stays committed as free space in its large-object region, so that index's storage is what to change next.
/// </summary>
internal static class FreedMemory
{
    /// <summary>Runs the aggressive collection; returns the resident memory (MiB) before and after, and how long it took.</summary>
    public static (double BeforeMiB, double AfterMiB, TimeSpan Elapsed) ReturnToOperatingSystem()
    {
        var before = Environment.WorkingSet;
        var started = Stopwatch.GetTimestamp();
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
        var elapsed = Stopwatch.GetElapsedTime(started);
        return (before / (1024.0 * 1024), Environment.WorkingSet / (1024.0 * 1024), elapsed);
    }
}
