using System.Diagnostics;
using System.Globalization;

namespace Chroma.Studio.Tests;

/// <summary>
/// CPU time (user + system) of this test process (which hosts the server) and of the Chromium processes it
/// started, split by Chromium process type, read from <c>/proc</c>: on a shared machine wall-clock frame times
/// mean little without the CPU the browser actually got. Zero where <c>/proc</c> is not there.
/// </summary>
internal sealed record ProcessCpu(TimeSpan Server, TimeSpan Renderer, TimeSpan Gpu, TimeSpan OtherBrowser)
{
    private const double TicksPerSecond = 100; // USER_HZ on Linux

    public static string LoadAverage => File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Trim() : "n/a";

    public static ProcessCpu Read()
    {
        var server = Process.GetCurrentProcess().TotalProcessorTime;
        TimeSpan renderer = TimeSpan.Zero, gpu = TimeSpan.Zero, other = TimeSpan.Zero;
        if (!Directory.Exists("/proc"))
        {
            return new ProcessCpu(server, renderer, gpu, other);
        }

        var parents = new Dictionary<int, (int Parent, TimeSpan Cpu)>();
        foreach (var directory in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(directory), out var pid))
            {
                continue;
            }

            try
            {
                // Fields after the parenthesised command: state ppid ... utime (14th field) stime (15th).
                var stat = File.ReadAllText(Path.Combine(directory, "stat"));
                var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                var ticks = long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
                parents[pid] = (int.Parse(fields[1], CultureInfo.InvariantCulture), TimeSpan.FromSeconds(ticks / TicksPerSecond));
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException)
            {
                // The process ended while being read.
            }
        }

        var self = Environment.ProcessId;
        foreach (var (pid, (_, cpu)) in parents)
        {
            if (pid == self || !DescendsFrom(pid, self, parents))
            {
                continue;
            }

            string commandLine;
            try
            {
                commandLine = File.ReadAllText($"/proc/{pid}/cmdline").Replace('\0', ' ');
            }
            catch (IOException)
            {
                continue;
            }

            if (!commandLine.Contains("chrom", StringComparison.OrdinalIgnoreCase))
            {
                continue;
            }

            if (commandLine.Contains("--type=renderer", StringComparison.Ordinal))
            {
                renderer += cpu;
            }
            else if (commandLine.Contains("--type=gpu-process", StringComparison.Ordinal))
            {
                gpu += cpu;
            }
            else
            {
                other += cpu;
            }
        }

        return new ProcessCpu(server, renderer, gpu, other);
    }

    public static ProcessCpu operator -(ProcessCpu after, ProcessCpu before) =>
        new(after.Server - before.Server, after.Renderer - before.Renderer, after.Gpu - before.Gpu, after.OtherBrowser - before.OtherBrowser);

    public override string ToString() => string.Create(
        CultureInfo.InvariantCulture,
        $"CPU: browser renderer {Renderer.TotalSeconds:F2} s, GPU process (SwiftShader) {Gpu.TotalSeconds:F2} s, other browser {OtherBrowser.TotalSeconds:F2} s, server+test {Server.TotalSeconds:F2} s");

    private static bool DescendsFrom(int pid, int ancestor, Dictionary<int, (int Parent, TimeSpan Cpu)> parents)
    {
        for (var depth = 0; depth < 16 && parents.TryGetValue(pid, out var entry); depth++)
        {
            if (entry.Parent == ancestor)
            {
                return true;
            }

            pid = entry.Parent;
        }

        return false;
    }
}
