using System.Diagnostics;
using System.Globalization;
using Chroma.Server.Recommendations;
using Chroma.Server.Recommendations.Scheduling;
using Chroma.Server.Recommendations.Serving;
using Chroma.Server.Storage;

namespace Chroma.Benchmarks.Recommendations;

/// <summary>
/// What the first page of a new ranking revision costs a request (probe U, U2: GetRecommendations p95 0.9-2.3 s while a
/// pass published revisions at a million records): a set of scored records shaped as a pass leaves them, published as a
/// new revision before every timed page, so each page ranks afresh. Prints the median of five runs after a warm-up,
/// for the page (balanced, 20 entries) and for its parts: combining the signals of every record, and the top scores.
/// </summary>
internal static class RankingPageBenchmark
{
    public const string Usage = "[records (default 1000000)] [dimension (default 128)]   (first page of a new ranking revision)";

    public static int Run(string[] args)
    {
        var count = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 1_000_000;
        var dimension = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 128;
        var random = new Random(7);
        var measurement = new EmbeddingMeasurement(2.5, "7", new NeighborSignals(0.3, 0.1, 10, "2", 1));
        var entries = new ScoredEntry[count];
        for (var i = 0; i < count; i++)
        {
            var unit = new float[dimension];
            for (var d = 0; d < dimension; d++)
            {
                unit[d] = (float)(random.NextDouble() - 0.5);
            }

            var norm = (float)Math.Sqrt(unit.Sum(v => v * v));
            for (var d = 0; d < dimension; d++)
            {
                unit[d] /= norm;
            }

            var record = new ScoredRecord($"r{i:D8}", "v1", unit, (i % 10).ToString(CultureInfo.InvariantCulture), measurement, null, MedianTiming.FiveSignals(random))
            {
                ShiftLeadSurprise = i % 3 == 0 ? random.NextDouble() : null,
                BoundaryFactor = i % 4 == 0 ? random.NextDouble() : 1,
            };
            entries[i] = new ScoredEntry(i + 1, "production", record);
        }

        var set = new StoredEmbeddingSet(1, "bench/1/x", new() { Model = "bench", ModelVersion = "1", Layer = "x", Dimension = dimension });
        var pages = new RecommendationPages(null!, new RecommendationOptions());
        var request = new RecommendationPageRequest(Chroma.Server.Recommendations.RecommendationStrategy.Balanced, "production", new Dictionary<string, string>(), AllScores: false, Offset: 0, PageSize: 20);
        var revision = 0L;
        var pageMs = MedianTiming.Milliseconds(() => pages.GetPage(set, new SetScores(entries, "v1", 0, ++revision, null), request));
        var records = entries.Select(e => e.Record).ToArray();
        var scores = new double[count];
        var combineMs = MedianTiming.Milliseconds(() => Parallel.For(0, count, i => scores[i] = SignalCombiner.Score(records[i], Chroma.Server.Recommendations.RecommendationStrategy.Balanced)));
        var rankMs = MedianTiming.Milliseconds(() => RecommendationRanker.Rank(records, Chroma.Server.Recommendations.RecommendationStrategy.Balanced, 100));
        IReadOnlyList<ScoredEntry> list = entries;
        var scanMs = MedianTiming.Milliseconds(() => _ = Scan());
        int Scan()
        {
            var candidates = new List<ScoredEntry>();
            foreach (var entry in list)
            {
                if (string.Equals(entry.Dataset, "production", StringComparison.Ordinal))
                {
                    candidates.Add(entry);
                }
            }

            ScoredEntry[] array = [.. candidates];
            ScoredRecord[] recs = [.. array.Select(e => e.Record)];
            return recs.Length;
        }
        var wantedMs = MedianTiming.Milliseconds(() => _ = Lookups());
        int Lookups()
        {
            var wanted = new Dictionary<string, ScoredEntry?>(StringComparer.Ordinal) { ["r00000001"] = null };
            var hits = 0;
            foreach (var entry in entries)
            {
                hits += wanted.ContainsKey(entry.Record.Id) ? 1 : 0;
            }

            return hits;
        }
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"candidates scan and copies {scanMs:F0} ms; id lookups {wantedMs:F0} ms"));
        var fingerprintMs = MedianTiming.Milliseconds(() => RankingFingerprint.Compute(new SetScores(entries, "v1", 0, ++revision, null)));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{count:N0} records, {dimension}-d: first page of a new revision {pageMs:F0} ms; of it: ranking {rankMs:F0} ms (combining the signals {combineMs:F0} ms); fingerprint {fingerprintMs:F0} ms ({Environment.ProcessorCount} cores)"));
        return 0;
    }
}
