using System.Diagnostics;
using Chroma.Server.Recommendations;

namespace Chroma.Benchmarks.Recommendations;

/// <summary>What the small in-process recommendation benchmarks share: a median timing and scored records' signals.</summary>
internal static class MedianTiming
{
    /// <summary>The median of five timed runs of <paramref name="run"/> after one warm-up, in milliseconds.</summary>
    public static double Milliseconds(Action run)
    {
        run();
        var times = new List<double>();
        for (var i = 0; i < 5; i++)
        {
            var started = Stopwatch.GetTimestamp();
            run();
            times.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        }

        times.Sort();
        return times[2];
    }

    /// <summary>Five signals as a pass leaves them (values, percentiles and p-values drawn from <paramref name="random"/>).</summary>
    public static SignalScore[] FiveSignals(Random random) =>
    [
        new(SignalKind.Mahalanobis, random.NextDouble() * 10, random.NextDouble(), random.NextDouble()),
        new(SignalKind.KnnDistance, random.NextDouble(), random.NextDouble(), random.NextDouble()),
        new(SignalKind.RelativeMahalanobis, random.NextDouble(), random.NextDouble(), random.NextDouble()),
        new(SignalKind.ProductionShift, random.NextDouble(), random.NextDouble(), random.NextDouble()),
        new(SignalKind.Boundary, random.NextDouble(), random.NextDouble(), random.NextDouble()),
    ];
}
