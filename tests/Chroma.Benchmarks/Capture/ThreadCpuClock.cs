using System.Runtime.InteropServices;

namespace Chroma.Benchmarks.Capture;

/// <summary>
/// CPU time of the calling thread (Linux <c>CLOCK_THREAD_CPUTIME_ID</c>): what the captured call itself costs,
/// without the background sender's work or the time other processes take on a shared machine.
/// </summary>
internal static class ThreadCpuClock
{
    private const int ClockThreadCpuTimeId = 3;

    public static bool IsSupported => OperatingSystem.IsLinux();

    /// <summary>Nanoseconds of CPU the calling thread has used, or 0 where unsupported.</summary>
    public static long NowNanoseconds()
    {
        if (!IsSupported || ClockGetTime(ClockThreadCpuTimeId, out var time) != 0)
        {
            return 0;
        }

        return (time.Seconds * 1_000_000_000) + time.Nanoseconds;
    }

#pragma warning disable SYSLIB1054 // LibraryImport would need unsafe code in this project for one blittable call.
    [DllImport("libc", EntryPoint = "clock_gettime")]
    private static extern int ClockGetTime(int clockId, out TimeSpec time);
#pragma warning restore SYSLIB1054

    [StructLayout(LayoutKind.Sequential)]
    private struct TimeSpec
    {
        public long Seconds;
        public long Nanoseconds;
    }
}
