using System.Runtime.InteropServices;

namespace Chroma.Benchmarks.Ann;

/// <summary>
/// CPU time consumed by the calling thread (Linux clock_gettime(CLOCK_THREAD_CPUTIME_ID)). On a shared machine
/// wall-clock throughput also measures how much CPU the scheduler granted; per-CPU-second throughput does not.
/// </summary>
internal static partial class ThreadCpuClock
{
    private const int ClockThreadCpuTimeId = 3;

    /// <summary>Seconds of CPU this thread has used, or NaN where the clock is unavailable.</summary>
    public static double Seconds()
    {
        if (!OperatingSystem.IsLinux())
        {
            return double.NaN;
        }

        return ClockGetTime(ClockThreadCpuTimeId, out TimeSpec spec) == 0 ? spec.Seconds + (spec.Nanoseconds * 1e-9) : double.NaN;
    }

    [LibraryImport("libc", EntryPoint = "clock_gettime")]
    private static partial int ClockGetTime(int clockId, out TimeSpec time);

    [StructLayout(LayoutKind.Sequential)]
    private struct TimeSpec
    {
        public long Seconds;
        public long Nanoseconds;
    }
}
