using System.Diagnostics;
using System.Globalization;

namespace Chroma.Benchmarks.Storage;

/// <summary>
/// FindNearest latency and recall through the real client: sequential queries (one in flight, k 10, the set's default
/// search breadth) against a ready replica, each timed from the call to its answer; recall@10 against the exact
/// neighbours, records matched by their input URI (the row number in the base data).
/// </summary>
internal static class NearestLatency
{
    public const int K = 10;
    private const int Warmup = 50;

    /// <summary>Queries per entry of <see cref="Result.BlockMedians"/>.</summary>
    public const int Block = 100;

    /// <summary>How many of the slowest queries <see cref="Result.SlowestQueries"/> lists.</summary>
    public const int Slowest = 12;

    /// <summary>Times <paramref name="count"/> queries (after a warm-up of 50 not counted).</summary>
    public static async Task<Result> MeasureAsync(ChromaClient client, string setId, float[] queries, int count, int dimension, int[] truth, int truthK)
    {
        var measuring = Stopwatch.StartNew();
        for (var q = 0; q < Warmup; q++)
        {
            await client.FindNearestAsync(setId, queries.AsMemory(q % count * dimension, dimension), K).ConfigureAwait(false);
        }

        var milliseconds = new double[count];
        var startedAt = new double[count];
        var found = 0L;
        for (var q = 0; q < count; q++)
        {
            startedAt[q] = measuring.Elapsed.TotalSeconds;
            var started = Stopwatch.GetTimestamp();
            var neighbours = await client.FindNearestAsync(setId, queries.AsMemory(q * dimension, dimension), K).ConfigureAwait(false);
            milliseconds[q] = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
            var exact = truth.AsSpan(q * truthK, K);
            foreach (var neighbour in neighbours)
            {
                if (int.TryParse(neighbour.Record.InputUri, NumberStyles.None, CultureInfo.InvariantCulture, out var row) && exact.Contains(row))
                {
                    found++;
                }
            }
        }

        // The median of the first and of the last tenth, in the order asked: whether the replica got faster as it ran.
        var tenth = Math.Max(1, count / 10);
        var first = Median(milliseconds[..tenth]);
        var last = Median(milliseconds[^tenth..]);
        var blocks = milliseconds.Chunk(Block).Select(b => Median([.. b])).ToArray();
        var slowest = Enumerable.Range(0, count).OrderByDescending(q => milliseconds[q]).Take(Slowest)
            .Select(q => (startedAt[q], milliseconds[q])).OrderBy(s => s.Item1).ToArray();
        Array.Sort(milliseconds);
        return new Result(Percentile(milliseconds, 0.50), Percentile(milliseconds, 0.99), milliseconds.Average(), milliseconds[^1], found / (double)(count * K), first, last)
        {
            BlockMedians = blocks,
            SlowestQueries = slowest,
        };
    }

    private static double Median(double[] values)
    {
        Array.Sort(values);
        return Percentile(values, 0.50);
    }

    private static double Percentile(double[] sorted, double p) => sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(p * sorted.Length) - 1)];

    /// <summary>Latency percentiles and mean in ms, recall@10, and the median of the first and last tenth of the queries.</summary>
    public sealed record Result(double P50, double P99, double Mean, double Max, double Recall, double FirstTenthP50, double LastTenthP50)
    {
        /// <summary>The median of each <see cref="Block"/> consecutive queries, in the order asked.</summary>
        public IReadOnlyList<double> BlockMedians { get; init; } = [];

        /// <summary>The <see cref="Slowest"/> slowest queries in the order asked: when each began (seconds after the warm-up began) and its time (ms).</summary>
        public IReadOnlyList<(double StartedSeconds, double Milliseconds)> SlowestQueries { get; init; } = [];

        public override string ToString() => string.Create(CultureInfo.InvariantCulture,
            $"p50 {P50:F2} ms, p99 {P99:F2} ms (mean {Mean:F2}, max {Max:F1}; p50 of the first / last tenth {FirstTenthP50:F2} / {LastTenthP50:F2}), recall@10 {Recall:F4}");
    }
}
