using System.Globalization;
using Chroma.Server.Labeling;
using Chroma.Server.Recommendations;
using Chroma.Server.Recommendations.Scheduling;
using Chroma.Server.Recommendations.Serving;

namespace Chroma.Benchmarks.Recommendations;

/// <summary>
/// What naming a ranking by its content costs a page request: the fingerprint of a set's published scores (computed
/// once per publication, on the first page token issued or checked for it) and of a set of reviewed records, at the
/// sizes given, on scored records shaped as a pass leaves them (five signals each, some with a lead and a boundary
/// factor). Prints the median of five timed runs after a warm-up.
/// </summary>
internal static class RankingFingerprintBenchmark
{
    public const string Usage = "[records (default 1000000)] [reviewed (default 10000)]   (cost of a page token's ranking fingerprint)";

    public static int Run(string[] args)
    {
        var count = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 1_000_000;
        var reviewedCount = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 10_000;
        var random = new Random(7);
        var measurement = new EmbeddingMeasurement(2.5, "7", new NeighborSignals(0.3, 0.1, 10, "2", 1));
        var unit = new float[16];
        unit[0] = 1;
        var entries = new ScoredEntry[count];
        for (var i = 0; i < count; i++)
        {
            var signals = MedianTiming.FiveSignals(random);
            var record = new ScoredRecord($"r{i}", "v1", unit, (i % 10).ToString(CultureInfo.InvariantCulture), measurement, null, signals)
            {
                ShiftLeadSurprise = i % 3 == 0 ? random.NextDouble() : null,
                BoundaryFactor = i % 4 == 0 ? random.NextDouble() : 1,
            };
            entries[i] = new ScoredEntry(i + 1, "production", record);
        }

        var reviewed = new ReviewedSnapshot(new HashSet<long>(Enumerable.Range(0, reviewedCount).Select(_ => (long)random.Next(1, count + 1))), 1);
        var scoresMs = MedianTiming.Milliseconds(() => RankingFingerprint.Compute(new SetScores(entries, "v1", 0, 1, null)));
        var reviewedMs = MedianTiming.Milliseconds(() => RankingFingerprint.Compute(reviewed.Sequences));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"fingerprint of {count:N0} scored records: {scoresMs:F1} ms ({scoresMs * 1e6 / count:F0} ns a record); of {reviewed.Sequences.Count:N0} reviewed records: {reviewedMs:F2} ms"));
        return 0;
    }
}
