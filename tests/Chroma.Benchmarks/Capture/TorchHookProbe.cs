using System.Diagnostics;
using Chroma.TorchSharp;
using static TorchSharp.torch;

namespace Chroma.Benchmarks.Capture;

/// <summary>
/// <c>capture --torch-probe</c>: the overhead of Chroma's hooks on a TorchSharp forward, measured as the median of
/// paired differences between alternating rounds of bare and captured forwards. Alternating cancels most of the noise
/// a busy machine adds, which a sequential benchmark run cannot.
/// </summary>
internal static class TorchHookProbe
{
    private const int Rounds = 200;

    public static int Run()
    {
        set_num_threads(1);
        var exitCode = 0;
        foreach (var (batch, forwardsPerRound) in new[] { (1, 50), (64, 5) })
        {
            exitCode |= Measure(batch, forwardsPerRound);
        }

        return exitCode;
    }

    private static int Measure(int batch, int forwardsPerRound)
    {
        manual_seed(1);
        using var bare = new BenchMlp();
        manual_seed(1);
        using var captured = new BenchMlp();
        bare.eval();
        captured.eval();
        var client = AckingIngestSessions.CreateClient(queueCapacity: 4 * forwardsPerRound * batch);
        try
        {
            var set = client.GetEmbeddingSet(new EmbeddingSetDescriptor("probe-mlp", "1", "fc2", 128));
            using var capture = captured.CaptureWithChroma(set, captured.Penultimate);
            using var noGrad = no_grad();
            using var input = randn(batch, 784);
            var bareTimes = new (double Wall, double Cpu)[Rounds];
            var capturedTimes = new (double Wall, double Cpu)[Rounds];
            for (var round = -10; round < Rounds; round++) // ten warm-up rounds
            {
                var b = Time(bare, input, forwardsPerRound);
                var c = Time(captured, input, forwardsPerRound);
                client.FlushAsync().WaitAsync(TimeSpan.FromSeconds(60)).GetAwaiter().GetResult();
                if (round >= 0)
                {
                    (bareTimes[round], capturedTimes[round]) = (b, c);
                }
            }

            Console.WriteLine($"batch {batch,2}, {Rounds} alternating rounds of {forwardsPerRound} forwards; rows {capture.CapturedRows:N0}, dropped {client.Statistics.Dropped}, errors {client.CaptureErrorCount}");
            Report("  wall time          ", bareTimes.Select(t => t.Wall).ToArray(), capturedTimes.Select(t => t.Wall).ToArray(), batch);
            Report("  calling-thread CPU ", bareTimes.Select(t => t.Cpu).ToArray(), capturedTimes.Select(t => t.Cpu).ToArray(), batch);
            return client.Statistics.Dropped == 0 && client.CaptureErrorCount == 0 ? 0 : 1;
        }
        finally
        {
            client.DisposeAsync().AsTask().GetAwaiter().GetResult();
        }
    }

    private static void Report(string what, double[] bare, double[] captured, int batch)
    {
        var differences = bare.Zip(captured, (b, c) => c - b).Order().ToArray();
        Console.WriteLine(
            $"{what}: bare median {Median(bare),7:F1} us, captured median {Median(captured),7:F1} us, paired overhead median " +
            $"{differences[Rounds / 2],6:F1} us (IQR {differences[Rounds / 4]:F1}..{differences[3 * Rounds / 4]:F1}) = {differences[Rounds / 2] * 1000 / batch:F0} ns per row");
    }

    /// <summary>Microseconds per forward: wall clock, and CPU of this thread.</summary>
    private static (double Wall, double Cpu) Time(BenchMlp model, Tensor input, int forwards)
    {
        var cpuStart = ThreadCpuClock.NowNanoseconds();
        var start = Stopwatch.GetTimestamp();
        for (var i = 0; i < forwards; i++)
        {
            using var scope = NewDisposeScope();
            model.call(input);
        }

        var wall = Stopwatch.GetElapsedTime(start).TotalMicroseconds / forwards;
        return (wall, (ThreadCpuClock.NowNanoseconds() - cpuStart) / 1000.0 / forwards);
    }

    private static double Median(double[] values) => values.Order().ElementAt(values.Length / 2);
}
