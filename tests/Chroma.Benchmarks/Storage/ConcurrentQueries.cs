using System.Diagnostics;
using System.Globalization;

namespace Chroma.Benchmarks.Storage;

/// <summary>
/// FindNearest under concurrent callers: <c>callers</c> loops share one client (one HTTP/2 connection, as a service
/// that holds one client would), each sending its next query as soon as the last one is answered, for a fixed time.
/// Every call is timed from the call to its answer; a call that fails is counted, not timed. Recall@10 is measured on
/// every answer against the exact neighbours (records matched by their input URI, the row number in the base data)
/// unless the set is changing underneath (<paramref name="truth"/> null).
/// </summary>
internal static class ConcurrentQueries
{
    public const int K = 10;

    /// <summary>Runs <paramref name="callers"/> loops for <paramref name="duration"/>.</summary>
    public static async Task<Result> RunAsync(
        ChromaClient client, string setId, float[] queries, int queryCount, int dimension, int[]? truth, int truthK, int callers, TimeSpan duration)
    {
        var next = -1;
        var stopAt = Stopwatch.GetTimestamp() + (long)(duration.TotalSeconds * Stopwatch.Frequency);
        var loops = Enumerable.Range(0, callers).Select(_ => Task.Run(async () =>
        {
            var latencies = new List<double>(4_096);
            long found = 0, answered = 0, failed = 0, behind = 0;
            string? firstError = null;
            while (Stopwatch.GetTimestamp() < stopAt)
            {
                var q = (int)((uint)Interlocked.Increment(ref next) % (uint)queryCount);
                var started = Stopwatch.GetTimestamp();
                try
                {
                    var neighbours = await client.FindNearestAsync(setId, queries.AsMemory(q * dimension, dimension), K).ConfigureAwait(false);
                    latencies.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
                    answered++;
                    behind += neighbours is NearestNeighbors { IndexBehind: true } ? 1 : 0;
                    if (truth is not null)
                    {
                        found += Matches(neighbours, truth.AsSpan(q * truthK, K));
                    }
                }
                catch (ChromaException ex)
                {
                    failed++;
                    firstError ??= ex.Message;
                }
            }

            return (latencies, found, answered, failed, behind, firstError);
        })).ToArray();

        var wall = Stopwatch.StartNew();
        var results = await Task.WhenAll(loops).ConfigureAwait(false);
        wall.Stop();
        var all = results.SelectMany(r => r.latencies).ToArray();
        Array.Sort(all);
        var answeredTotal = results.Sum(r => r.answered);
        return new Result(
            callers,
            answeredTotal / wall.Elapsed.TotalSeconds,
            Percentile(all, 0.50),
            Percentile(all, 0.99),
            all.Length == 0 ? double.NaN : all[^1],
            truth is null || answeredTotal == 0 ? double.NaN : results.Sum(r => r.found) / (double)(answeredTotal * K),
            answeredTotal,
            results.Sum(r => r.failed),
            results.Sum(r => r.behind),
            results.Select(r => r.firstError).FirstOrDefault(e => e is not null));
    }

    private static int Matches(IReadOnlyList<ChromaNeighbor> neighbours, ReadOnlySpan<int> exact)
    {
        var found = 0;
        foreach (var neighbour in neighbours)
        {
            if (int.TryParse(neighbour.Record.InputUri, NumberStyles.None, CultureInfo.InvariantCulture, out var row) && exact.Contains(row))
            {
                found++;
            }
        }

        return found;
    }

    private static double Percentile(double[] sorted, double p) =>
        sorted.Length == 0 ? double.NaN : sorted[Math.Min(sorted.Length - 1, Math.Max(0, (int)Math.Ceiling(p * sorted.Length) - 1))];

    /// <summary>
    /// Queries answered per second, latency percentiles in ms, recall@10 (NaN when not measured), calls answered, failed
    /// and answered without everything acknowledged before them (<see cref="NearestNeighbors.IndexBehind"/>).
    /// </summary>
    public sealed record Result(int Callers, double PerSecond, double P50, double P99, double Max, double Recall, long Answered, long Failed, long Behind, string? FirstError)
    {
        public override string ToString() => string.Create(CultureInfo.InvariantCulture,
            $"{Callers,3} callers {PerSecond,8:N0} queries/s  p50 {P50,7:F2} ms  p99 {P99,7:F2} ms  max {Max,7:F1} ms  " +
            $"{(double.IsNaN(Recall) ? "recall not measured" : $"recall@10 {Recall:F4}")}  ({Answered:N0} answered, {Behind:N0} with the index behind, {Failed:N0} failed{(FirstError is null ? string.Empty : $": {FirstError}")})");
    }
}
