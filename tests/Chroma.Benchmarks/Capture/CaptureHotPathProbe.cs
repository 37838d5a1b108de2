using System.Diagnostics;

namespace Chroma.Benchmarks.Capture;

/// <summary>
/// <c>capture --probe</c>: times <see cref="EmbeddingSet.LogProduction"/> of a 128-float embedding in rounds and
/// counts the bytes allocated on the calling thread only (BenchmarkDotNet's Allocated column counts every thread,
/// including the background sender's protobuf messages). The queue is drained between rounds, outside the timing.
/// </summary>
internal static class CaptureHotPathProbe
{
    private const int Rounds = 20;

    /// <summary>Runs the probe.</summary>
    /// <param name="callsPerRound">Calls between two drains: how many records may wait in the queue at once.</param>
    public static int Run(int callsPerRound)
    {
        var embedding = new float[128];
        for (var i = 0; i < embedding.Length; i++)
        {
            embedding[i] = i / 128f;
        }

        float[] probabilities = [0, 0, 0, 0, 0, 0, 0, 1, 0, 0];
        var client = AckingIngestSessions.CreateClient(queueCapacity: 2 * callsPerRound);
        try
        {
            var set = client.GetEmbeddingSet(new EmbeddingSetDescriptor("probe", "1", "fc2", embedding.Length));
            Round(set, client, embedding, probabilities, callsPerRound); // warm-up: JIT, pool buckets, channel segments
            Round(set, client, embedding, probabilities, callsPerRound);
            var results = Enumerable.Range(0, Rounds * Math.Max(1, 50_000 / callsPerRound)).Select(_ => Round(set, client, embedding, probabilities, callsPerRound)).ToArray();
            var nanoseconds = results.Select(r => r.Nanoseconds).Order().ToArray();
            Console.WriteLine($"LogProduction(128 floats, class, 10 probabilities), {results.Length} rounds of {callsPerRound:N0} calls, drained between rounds:");
            Console.WriteLine($"  time per call: median {nanoseconds[nanoseconds.Length / 2]:F0} ns, min {nanoseconds[0]:F0} ns, max {nanoseconds[^1]:F0} ns");
            var bytes = results.Select(r => r.Bytes).Order().ToArray();
            Console.WriteLine($"  bytes allocated per call on the calling thread: median {bytes[bytes.Length / 2]:F1}, min {bytes[0]:F1}, max {bytes[^1]:F1}");
            Console.WriteLine($"  client statistics: {client.Statistics}");
            return client.Statistics.Dropped == 0 ? 0 : 1;
        }
        finally
        {
            client.DisposeAsync().AsTask().GetAwaiter().GetResult();
        }
    }

    private static (double Nanoseconds, double Bytes) Round(EmbeddingSet set, ChromaClient client, float[] embedding, float[] probabilities, int callsPerRound)
    {
        var bytesBefore = GC.GetAllocatedBytesForCurrentThread();
        var start = Stopwatch.GetTimestamp();
        for (var i = 0; i < callsPerRound; i++)
        {
            set.LogProduction(embedding, "7", probabilities);
        }

        var elapsed = Stopwatch.GetElapsedTime(start);
        var bytes = GC.GetAllocatedBytesForCurrentThread() - bytesBefore;
        client.FlushAsync().WaitAsync(TimeSpan.FromSeconds(60)).GetAwaiter().GetResult();
        return (elapsed.TotalNanoseconds / callsPerRound, (double)bytes / callsPerRound);
    }
}
