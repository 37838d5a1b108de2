using System.Runtime.InteropServices;

namespace Chroma.Server.Background.Internal;

/// <summary>
/// Lowers the operating-system scheduling priority of the calling thread, so CPU-heavy background work yields the
/// cores to requests (health checks, ingest acknowledgements, queries) whenever they need them and takes every idle
/// cycle otherwise. On Linux a thread has its own nice value (<c>setpriority(PRIO_PROCESS, tid, n)</c>), and raising it
/// needs no privilege; .NET's <see cref="Thread.Priority"/> does nothing there. Elsewhere this does nothing and reports
/// <see langword="false"/>.
/// </summary>
/// <remarks>
/// Linux's scheduler weighs a nice-0 thread 1024 against 335 at nice 5 and 110 at nice 10, so a busy request thread
/// gets about three times the CPU of a scoring thread and about nine times that of an index-build thread.
/// </remarks>
internal static partial class BackgroundThreadPriority
{
    /// <summary>Nice value of the scoring threads: below requests, above index builds.</summary>
    public const int Scoring = 5;

    /// <summary>
    /// Nice value of the index-build threads: a graph build is the longest background job, and queries answer exactly
    /// while it runs, so it takes what scoring and requests leave.
    /// </summary>
    public const int IndexBuild = 10;

    private const int PrioProcess = 0;

    /// <summary>Gets whether this platform lets a thread lower its own priority (Linux).</summary>
    public static bool IsSupported => OperatingSystem.IsLinux();

    /// <summary>
    /// Sets the calling thread's nice value to <paramref name="nice"/> (0 = normal, 19 = lowest), unless it already runs
    /// at that priority or lower: a server started niced (e.g. <c>nice -n 10</c>) keeps its background threads at least
    /// as low as its request threads, even where privilege would let a thread raise itself. Returns whether the thread
    /// now runs at <paramref name="nice"/> or lower; a refusal leaves the thread as it was.
    /// </summary>
    public static bool LowerCurrentThread(int nice)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(nice);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(nice, 19);
        if (!IsSupported)
        {
            return false;
        }

        try
        {
            if (CurrentThreadNice() is { } current && current >= nice)
            {
                return true;
            }

            return SetPriority(PrioProcess, GetThreadId(), nice) == 0;
        }
        catch (Exception ex) when (ex is DllNotFoundException or EntryPointNotFoundException)
        {
            // A libc without gettid (glibc < 2.30, some musl builds): the thread runs at normal priority.
            return false;
        }
    }

    /// <summary>Reads the calling thread's nice value (Linux), or null where that is not supported.</summary>
    public static int? CurrentThreadNice()
    {
        if (!IsSupported)
        {
            return null;
        }

        Marshal.SetLastPInvokeError(0);
        var value = GetPriority(PrioProcess, GetThreadId());
        return value == -1 && Marshal.GetLastPInvokeError() != 0 ? null : value;
    }

    [LibraryImport("libc", EntryPoint = "setpriority", SetLastError = true)]
    private static partial int SetPriority(int which, int who, int priority);

    [LibraryImport("libc", EntryPoint = "getpriority", SetLastError = true)]
    private static partial int GetPriority(int which, int who);

    [LibraryImport("libc", EntryPoint = "gettid")]
    private static partial int GetThreadId();
}
