using System.Globalization;

namespace Chroma.Benchmarks.Storage;

/// <summary>CPU time of a PostgreSQL cluster started for a benchmark, read from /proc (Linux; zero elsewhere).</summary>
internal static class PostgresClusterCpu
{
    /// <summary>CPU time of the PostgreSQL cluster listening on <paramref name="port"/>: postmaster, its reaped and live children.</summary>
    public static TimeSpan Read(int? port)
    {
        if (port is null || !Directory.Exists("/proc"))
        {
            return TimeSpan.Zero;
        }

        var ticks = 0L;
        int? postmaster = null;
        var parents = new Dictionary<int, (int Parent, long Own, long Children)>();
        foreach (var entry in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(entry), CultureInfo.InvariantCulture, out var pid))
            {
                continue;
            }

            try
            {
                var stat = File.ReadAllText(Path.Combine(entry, "stat"));
                // Fields after the command name (which may hold spaces): state ppid ... utime(14) stime(15) cutime(16) cstime(17).
                var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                var parent = int.Parse(fields[1], CultureInfo.InvariantCulture);
                var own = long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
                var children = long.Parse(fields[13], CultureInfo.InvariantCulture) + long.Parse(fields[14], CultureInfo.InvariantCulture);
                parents[pid] = (parent, own, children);
                if (postmaster is null && File.ReadAllText(Path.Combine(entry, "cmdline")).Replace('\0', ' ').Contains($"port={port}", StringComparison.Ordinal))
                {
                    postmaster = pid;
                }
            }
            catch (IOException)
            {
                // The process ended while being read.
            }
            catch (UnauthorizedAccessException)
            {
            }
        }

        if (postmaster is not { } root)
        {
            return TimeSpan.Zero;
        }

        foreach (var (pid, (parent, own, children)) in parents)
        {
            if (pid == root)
            {
                ticks += own + children;
            }
            else if (parent == root)
            {
                ticks += own;
            }
        }

        return TimeSpan.FromSeconds(ticks / 100.0);
    }
}
