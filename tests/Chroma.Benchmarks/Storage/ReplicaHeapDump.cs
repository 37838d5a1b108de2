using System.Diagnostics;
using System.Globalization;

namespace Chroma.Benchmarks.Storage;

/// <summary>
/// A heap dump of a replica by type (<c>pg-million --gcdump DIR</c>): runs <c>dotnet-gcdump collect</c> on the replica's
/// process (which forces a full blocking collection first, so only live objects are counted), then
/// <c>dotnet-gcdump report</c>, and prints the largest types with the replica's resident memory before and after. It
/// tells objects the server keeps alive (they are in the report) from memory the collector keeps committed (the
/// report's total is far below the resident size), then reads the collector's own account with <c>dotnet-counters</c>
/// (live heap by generation, fragmentation, committed bytes, working set). On .NET 10 the dump's event buffering is
/// lossy on large heaps (the tool says so), so its per-type rows are a guide; the counters are exact. Needs
/// <c>dotnet-gcdump</c> and <c>dotnet-counters</c> on PATH (<c>dotnet tool install -g ...</c>); without them a line says so.
/// </summary>
internal static class ReplicaHeapDump
{
    private const int TypesShown = 15;
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(5);

    public static async Task WriteAsync(ReplicaProcess replica, string name, string directory)
    {
        Directory.CreateDirectory(directory);
        var file = Path.Combine(directory, $"{name}.gcdump");
        var before = replica.Memory().ResidentMiB;
        var collect = await RunAsync("dotnet-gcdump", "collect", "-p", replica.ProcessId.ToString(CultureInfo.InvariantCulture), "-o", file).ConfigureAwait(false);
        if (collect is null)
        {
            Console.WriteLine($"  heap, {name,-8} not collected: dotnet-gcdump is not on PATH (dotnet tool install -g dotnet-gcdump)");
            return;
        }

        var after = replica.Memory().ResidentMiB;
        if (!File.Exists(file))
        {
            Console.WriteLine($"  heap, {name,-8} not collected: dotnet-gcdump printed {collect.Trim()}");
            return;
        }

        var report = await RunAsync("dotnet-gcdump", "report", file).ConfigureAwait(false) ?? string.Empty;
        var (heapBytes, types) = ByType(report);
        Console.WriteLine(string.Create(
            CultureInfo.InvariantCulture,
            $"  heap, {name,-8} {file}: live objects {heapBytes / (1024.0 * 1024):F0} MiB; resident {before:F0} MiB before the dump, {after:F0} MiB after its full collection; the largest types by live bytes:"));
        foreach (var (type, bytes, count) in types.Take(TypesShown))
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"                  {bytes / (1024.0 * 1024),9:F1} MiB {count,10:N0}  {type}"));
        }

        // The collector's own account after the dump's collection: what it holds committed against what is live.
        var csv = Path.Combine(directory, $"{name}.counters.csv");
        var counted = await RunAsync(
            "dotnet-counters", "collect", "-p", replica.ProcessId.ToString(CultureInfo.InvariantCulture), "--counters", Counters,
            "--duration", "00:00:00:03", "--format", "csv", "-o", csv).ConfigureAwait(false);
        Console.WriteLine(counted is null || !File.Exists(csv)
            ? $"  GC,   {name,-8} not read: dotnet-counters is not on PATH (dotnet tool install -g dotnet-counters)"
            : GcLine(name, File.ReadAllLines(csv)));

        // Where the resident pages are: the largest mappings (the GC's regions are anonymous mappings among them).
        foreach (var line in LargestMappings(File.ReadAllLines($"/proc/{replica.ProcessId}/smaps"), MappingsShown))
        {
            Console.WriteLine("                  " + line);
        }
    }

    private const int MappingsShown = 12;

    /// <summary>The <paramref name="count"/> mappings with the most resident memory, one line each, and the anonymous / file-backed totals.</summary>
    internal static IEnumerable<string> LargestMappings(string[] smaps, int count)
    {
        var mappings = new List<(string Header, long SizeKb, long RssKb, long HugeKb)>();
        foreach (var line in smaps)
        {
            var colon = line.IndexOf(':', StringComparison.Ordinal);
            var dash = line.IndexOf('-', StringComparison.Ordinal);
            if (dash > 0 && (colon < 0 || colon > dash + 1) && line.Length > dash && Uri.IsHexDigit(line[0]) && line[..dash].All(Uri.IsHexDigit))
            {
                var range = line.Split(' ')[0].Split('-');
                var size = (Convert.ToInt64(range[1], 16) - Convert.ToInt64(range[0], 16)) / 1024;
                mappings.Add((line, size, 0, 0));
            }
            else if (mappings.Count > 0 && (line.StartsWith("Rss:", StringComparison.Ordinal) || line.StartsWith("AnonHugePages:", StringComparison.Ordinal)))
            {
                var kb = long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture);
                var last = mappings[^1];
                mappings[^1] = line[0] == 'R' ? last with { RssKb = kb } : last with { HugeKb = kb };
            }
        }

        static bool Anonymous(string header) => header.Split(' ', StringSplitOptions.RemoveEmptyEntries).Length < 6;
        yield return string.Create(
            CultureInfo.InvariantCulture,
            $"mappings: {mappings.Count:N0}; resident anonymous {mappings.Where(m => Anonymous(m.Header)).Sum(m => m.RssKb) / 1024.0:F0} MiB (in huge pages {mappings.Sum(m => m.HugeKb) / 1024.0:F0}), file-backed {mappings.Where(m => !Anonymous(m.Header)).Sum(m => m.RssKb) / 1024.0:F0} MiB; the largest:");
        foreach (var (header, size, rss, _) in mappings.OrderByDescending(m => m.RssKb).Take(count))
        {
            yield return string.Create(CultureInfo.InvariantCulture, $"  {rss / 1024.0,7:F0} MiB resident of {size / 1024.0,8:F0} MiB  {header}");
        }
    }

    private const string Counters =
        "System.Runtime[dotnet.gc.last_collection.heap.size,dotnet.gc.last_collection.memory.committed_size,dotnet.gc.last_collection.heap.fragmentation.size,dotnet.process.memory.working_set]";

    /// <summary>One line from the counters' CSV (the last value of each): live heap by generation, fragmentation, committed, working set.</summary>
    internal static string GcLine(string name, string[] csv)
    {
        var last = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var row in csv.Skip(1))
        {
            var fields = row.Split(',');
            if (fields.Length >= 5 && double.TryParse(fields[^1], NumberStyles.Float, CultureInfo.InvariantCulture, out var value))
            {
                last[fields[2]] = value / (1024 * 1024);
            }
        }

        double Sum(string counter) => last.Where(c => c.Key.StartsWith(counter, StringComparison.Ordinal)).Sum(c => c.Value);
        string Generations(string counter) => string.Join(", ", last.Where(c => c.Key.StartsWith(counter, StringComparison.Ordinal))
            .Select(c => string.Create(CultureInfo.InvariantCulture, $"{c.Key[(c.Key.IndexOf('=') + 1)..].TrimEnd(']')} {c.Value:F0}")));
        var committed = Sum("dotnet.gc.last_collection.memory.committed_size");
        var working = Sum("dotnet.process.memory.working_set");
        return string.Create(
            CultureInfo.InvariantCulture,
            $"  GC,   {name,-8} after the dump's collection: heap {Sum("dotnet.gc.last_collection.heap.size"):F0} MiB ({Generations("dotnet.gc.last_collection.heap.size")}), fragmentation {Sum("dotnet.gc.last_collection.heap.fragmentation.size"):F0} MiB, committed {committed:F0} MiB; working set {working:F0} MiB, of it outside the GC's commit {working - committed:F0} MiB");
    }

    /// <summary>
    /// The report's total and its rows summed by type, largest first. A row is "bytes-per-object count type (size
    /// bucket) [assembly]"; one type has a row per size bucket.
    /// </summary>
    internal static (long HeapBytes, List<(string Type, long Bytes, long Count)> Types) ByType(string report)
    {
        long heapBytes = 0;
        var totals = new Dictionary<string, (long Bytes, long Count)>(StringComparer.Ordinal);
        foreach (var raw in report.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var parts = raw.Split(' ', 3, StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length < 2 || !long.TryParse(parts[0], NumberStyles.AllowThousands, CultureInfo.InvariantCulture, out var size))
            {
                continue;
            }

            if (raw.EndsWith("GC Heap bytes", StringComparison.Ordinal))
            {
                heapBytes = size;
                continue;
            }

            if (parts.Length < 3 || !long.TryParse(parts[1], NumberStyles.AllowThousands, CultureInfo.InvariantCulture, out var count))
            {
                continue;
            }

            var type = parts[2];
            var bucket = type.IndexOf(" (Bytes", StringComparison.Ordinal);
            type = bucket >= 0 ? type[..bucket] : type;
            var sum = totals.GetValueOrDefault(type);
            totals[type] = (sum.Bytes + (size * count), sum.Count + count);
        }

        return (heapBytes, [.. totals.Select(t => (t.Key, t.Value.Bytes, t.Value.Count)).OrderByDescending(t => t.Item2)]);
    }

    /// <summary>Runs <paramref name="tool"/> with <paramref name="arguments"/>; its output, or null when it is not on PATH.</summary>
    private static async Task<string?> RunAsync(string tool, params string[] arguments)
    {
        var start = new ProcessStartInfo(tool)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        Process? process;
        try
        {
            process = Process.Start(start);
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return null;
        }

        if (process is null)
        {
            return null;
        }

        using (process)
        {
            using var cancel = new CancellationTokenSource(Timeout);
            var output = process.StandardOutput.ReadToEndAsync(cancel.Token);
            var error = process.StandardError.ReadToEndAsync(cancel.Token);
            await process.WaitForExitAsync(cancel.Token).ConfigureAwait(false);
            return await output.ConfigureAwait(false) + await error.ConfigureAwait(false);
        }
    }
}
