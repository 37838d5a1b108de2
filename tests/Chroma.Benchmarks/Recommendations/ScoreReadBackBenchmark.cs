using System.Diagnostics;
using System.Globalization;
using Chroma.Server.Recommendations.Scheduling;
using Chroma.Server.Storage;
using Chroma.Server.Storage.Sqlite;

namespace Chroma.Benchmarks.Recommendations;

/// <summary>
/// <c>recs-readback DATA_DIRECTORY [SET_ID]</c>: where a read-back of stored scores (a restart) spends its time, on a
/// real server's SQLite data directory (stop the server first). One thread: the rows read through
/// <see cref="IRecordScoreStore.VisitScores"/> alone, then read and rebuilt (<see cref="ScoreCodec.FromStored"/>), each
/// with the process CPU and the collections it took; last, read and rebuilt with every result kept (as a restart keeps
/// them), which is where the collector's work shows.
/// </summary>
internal static class ScoreReadBackBenchmark
{
    public const string Usage = "DATA_DIRECTORY [SET_ID]   (a read-back of stored scores on a server's data: the read, then read and rebuild)";

    public static int Run(string[] args)
    {
        var (storage, set) = StoppedServerData.Open(args);
        using var opened = storage;
        Console.WriteLine($"recs-readback: set {set.SetId}, load {File.ReadAllText("/proc/loadavg").Split(' ')[0]}");
        Time("read only", () => storage.Scores.VisitScores(set, _ => { }));
        long bytes = 0;
        Time("read, JSON lengths summed", () => storage.Scores.VisitScores(set, s => bytes += s.SignalsJson.Length + s.MeasurementJson.Length));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  JSON characters per row: {bytes / (double)Math.Max(1, storage.Scores.VisitScores(set, _ => { })):F0}"));
        Time("read and rebuilt", () => storage.Scores.VisitScores(set, s => ScoreCodec.FromStored(s)));
        var kept = new List<object>();
        Time("read, rebuilt and kept", () => storage.Scores.VisitScores(set, s => kept.Add(ScoreCodec.FromStored(s))));
        Console.WriteLine($"  server GC {System.Runtime.GCSettings.IsServerGC}, kept {kept.Count:N0}; managed heap {GC.GetTotalMemory(false) / (1024 * 1024):N0} MiB");
        return 0;
    }

    private static void Time(string label, Func<int> run)
    {
        var collections = GC.CollectionCount(2);
        var cpu = Process.GetCurrentProcess().TotalProcessorTime;
        var stopwatch = Stopwatch.StartNew();
        var rows = run();
        var seconds = stopwatch.Elapsed.TotalSeconds;
        Console.WriteLine(string.Create(
            CultureInfo.InvariantCulture,
            $"  {label,-28} {rows:N0} rows in {seconds:F1} s ({seconds * 1e6 / Math.Max(1, rows):F1} us a row), process CPU {(Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalSeconds:F1} s, gen-2 collections {GC.CollectionCount(2) - collections}"));
    }
}
