using System.Diagnostics;
using System.Globalization;
using Chroma.Server.Recommendations.Scheduling;
using Chroma.Server.Storage;
using Chroma.Server.Storage.Sqlite;

namespace Chroma.Benchmarks.Recommendations;

/// <summary>
/// <c>recs-rankingfile DATA_DIRECTORY [SET_ID]</c>: what a set's ranking file costs (<see cref="RankingFiles"/>), on a
/// real server's SQLite data directory (stop the server first). The stored scores are read back and rebuilt as a start
/// without a file does (not timed), then the file is written as a clean stop writes it (the encoding alone, then encoded
/// and written), and read back as the next start reads it, each three times; the file goes to a temporary folder and is
/// removed after.
/// </summary>
internal static class RankingFileBenchmark
{
    public const string Usage = "DATA_DIRECTORY [SET_ID]   (a set's ranking file: written as at a stop, read as at the next start)";

    public static int Run(string[] args)
    {
        List<ScoredEntry> entries = [];
        var (storage, set) = StoppedServerData.Open(args);
        long lastSequence;
        using (storage)
        {
            lastSequence = storage.Records.ReadLastSequence(set);
            var strings = new RepeatedStrings();
            storage.Scores.VisitScores(set, s =>
            {
                var record = ScoreCodec.FromStored(s, strings);
                entries.Add(new ScoredEntry(s.Record.Sequence, strings.Share(s.Record.Dataset), record) { TrainingVersion = record.TrainingVersion });
            });
        }

        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"recs-rankingfile: set {set.SetId}, {entries.Count:N0} scored records, {set.Dimension}-d; load {File.ReadAllText("/proc/loadavg").Split(' ')[0]}; server GC {System.Runtime.GCSettings.IsServerGC}"));
        var folder = Directory.CreateTempSubdirectory("chroma-rankingfile-");
        try
        {
            var files = new RankingFiles(folder.FullName, Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance);
            var header = new RankingFileHeader(set.Key, set.SetId, set.Dimension, lastSequence, 0, entries.Count);
            for (var round = 1; round <= 3; round++)
            {
                var encoding = Stopwatch.StartNew();
                RankingFile.Write(Stream.Null, header, entries, CancellationToken.None);
                var encodeMs = encoding.Elapsed.TotalMilliseconds;
                var writing = Stopwatch.StartNew();
                var bytes = files.Save(header, entries, CancellationToken.None);
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"  write {round}: encoding alone {encodeMs:F0} ms; encoded and written (not flushed to disk) {writing.Elapsed.TotalMilliseconds:F0} ms ({bytes / (1024.0 * 1024):F0} MiB, {bytes / (double)Math.Max(1, entries.Count):F0} bytes a record)"));
            }

            // The next start reads the file with nothing else on the heap: the entries written go first.
            var kept = entries.Count;
            entries = [];
            GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
            var header0 = header;
            for (var round = 1; round <= 3; round++)
            {
                var collections = GC.CollectionCount(2);
                var cpu = Process.GetCurrentProcess().TotalProcessorTime;
                var reading = Stopwatch.StartNew();
                var saved = files.Take(set, lastSequence, CancellationToken.None) ?? throw new InvalidOperationException("the file was refused");
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"  read {round}: {saved.Entries.Count:N0} of {kept:N0} entries in {reading.Elapsed.TotalMilliseconds:F0} ms, process CPU {(Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalSeconds:F1} s, gen-2 collections {GC.CollectionCount(2) - collections}; managed heap {GC.GetTotalMemory(false) / (1024 * 1024):N0} MiB"));

                // Take removed the file: write it again from what was read, for the next round.
                files.Save(header0, saved.Entries, CancellationToken.None);
                saved = null;
                GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
            }
        }
        finally
        {
            folder.Delete(recursive: true);
        }

        return 0;
    }
}
