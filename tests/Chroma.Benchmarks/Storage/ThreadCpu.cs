using System.Globalization;

namespace Chroma.Benchmarks.Storage;

/// <summary>
/// CPU time of this process split by thread kind, read from /proc/self/task: the runtime's tiered-compilation
/// worker (JIT), the index threads (<c>chroma-index-*</c>: graph builds and large catch-up pages), and the rest
/// (clients, gRPC, validation, store, GC; taken as the process total minus the two, so threads that ended count).
/// </summary>
internal readonly record struct ThreadCpu(TimeSpan Total, TimeSpan Jit, TimeSpan Index)
{
    /// <summary>Everything but the JIT and the index threads.</summary>
    public TimeSpan Rest => Total - Jit - Index;

    // A thread that ended (the runtime replaces its tiered-compilation worker now and then) leaves the task list but not
    // the process total: a negative difference of a kind is counted as zero, so its time stays in Rest, not subtracted twice.
    public static ThreadCpu operator -(ThreadCpu after, ThreadCpu before) =>
        new(after.Total - before.Total, NotNegative(after.Jit - before.Jit), NotNegative(after.Index - before.Index));

    private static TimeSpan NotNegative(TimeSpan value) => value < TimeSpan.Zero ? TimeSpan.Zero : value;

    /// <summary>Reads the counters now (zeros for the split where /proc is absent).</summary>
    public static ThreadCpu Read()
    {
        var total = System.Diagnostics.Process.GetCurrentProcess().TotalProcessorTime;
        long jit = 0, index = 0;
        if (Directory.Exists("/proc/self/task"))
        {
            foreach (var task in Directory.EnumerateDirectories("/proc/self/task"))
            {
                try
                {
                    var name = File.ReadAllText(Path.Combine(task, "comm")).Trim();
                    var stat = File.ReadAllText(Path.Combine(task, "stat"));
                    // Fields after the command name: state(3) ... utime(14) stime(15).
                    var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                    var ticks = long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
                    if (name.Contains("Tiered", StringComparison.Ordinal))
                    {
                        jit += ticks;
                    }
                    else if (name.StartsWith("chroma-index", StringComparison.Ordinal))
                    {
                        index += ticks;
                    }
                }
                catch (IOException)
                {
                    // The thread ended while being read.
                }
            }
        }

        return new ThreadCpu(total, TimeSpan.FromSeconds(jit / 100.0), TimeSpan.FromSeconds(index / 100.0));
    }

    /// <summary>
    /// Waits until the tiered-compilation worker has been idle for a second (methods promoted after a warm-up), at most
    /// <paramref name="limit"/>.
    /// </summary>
    public static async Task WaitForJitQuietAsync(TimeSpan limit)
    {
        var deadline = DateTime.UtcNow + limit;
        var last = Read().Jit;
        while (DateTime.UtcNow < deadline)
        {
            await Task.Delay(1_000).ConfigureAwait(false);
            var now = Read().Jit;
            if (now - last < TimeSpan.FromMilliseconds(20))
            {
                return;
            }

            last = now;
        }
    }
}
