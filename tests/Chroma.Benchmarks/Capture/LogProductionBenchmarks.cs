using BenchmarkDotNet.Attributes;

namespace Chroma.Benchmarks.Capture;

/// <summary>
/// The fixed cost of capturing one 128-float embedding: a trivial model call, bare and wrapped with
/// <see cref="EmbeddingSet.LogProduction"/> (the same call every decorator makes per captured row). Two jobs: up
/// to 1,000 records waiting in the queue (the sender keeps up) and up to 65,536 (a burst far faster than the sender).
/// </summary>
[Config(typeof(Config))]
public class LogProductionBenchmarks
{
    /// <summary>Calls per iteration of the deep-queue job; the queue is sized for it.</summary>
    private const int DeepQueueCalls = 65_536;

    /// <summary>Calls per iteration of the shallow-queue job: the sender keeps up, as behind any real model.</summary>
    private const int ShallowQueueCalls = 1_000;

    private readonly float[] _input = new float[784];
    private readonly float[] _embedding = new float[128];
    private readonly float[] _probabilities = new float[10];
    private Func<float[], float[]> _model = null!;
    private ChromaClient _client = null!;
    private ChromaClient _disabledClient = null!;
    private EmbeddingSet _set = null!;
    private EmbeddingSet _disabledSet = null!;

    [GlobalSetup]
    public void Setup()
    {
        var random = new Random(1);
        for (var i = 0; i < _embedding.Length; i++)
        {
            _embedding[i] = (float)random.NextDouble();
        }

        _probabilities[7] = 1f;
        var embedding = _embedding;
        _model = _ => embedding; // the model itself costs nothing: what remains is the capture
        var descriptor = new EmbeddingSetDescriptor("bench", "1", "fc2", _embedding.Length);
        _client = AckingIngestSessions.CreateClient(queueCapacity: 2 * DeepQueueCalls);
        _set = _client.GetEmbeddingSet(descriptor);
        _disabledClient = AckingIngestSessions.CreateClient(queueCapacity: 1024);
        _disabledClient.CaptureEnabled = false;
        _disabledSet = _disabledClient.GetEmbeddingSet(descriptor);
    }

    /// <summary>Drains the queue between iterations (not measured) so the next iteration's rows all fit.</summary>
    [IterationCleanup]
    public void Drain() => _client.FlushAsync().WaitAsync(TimeSpan.FromSeconds(30)).GetAwaiter().GetResult();

    [GlobalCleanup]
    public void Cleanup()
    {
        var statistics = _client.Statistics;
        _client.DisposeAsync().AsTask().GetAwaiter().GetResult();
        _disabledClient.DisposeAsync().AsTask().GetAwaiter().GetResult();
        Console.WriteLine($"// capture statistics: {statistics}");
        if (statistics.Dropped > 0 || statistics.DroppedInvalid > 0)
        {
            throw new InvalidOperationException($"Rows were dropped ({statistics}): the drop path was measured, not the enqueue path.");
        }
    }

    [Benchmark(Baseline = true, Description = "Func: bare call")]
    public float Bare() => _model(_input)[0];

    [Benchmark(Description = "Func + LogProduction(embedding)")]
    public float EmbeddingOnly()
    {
        var embedding = _model(_input);
        _set.LogProduction(embedding);
        return embedding[0];
    }

    [Benchmark(Description = "Func + LogProduction(embedding, class, 10 probabilities)")]
    public float WithPrediction()
    {
        var embedding = _model(_input);
        _set.LogProduction(embedding, "7", _probabilities);
        return embedding[0];
    }

    [Benchmark(Description = "Func + LogProduction, CaptureEnabled = false")]
    public float CaptureDisabled()
    {
        var embedding = _model(_input);
        _disabledSet.LogProduction(embedding, "7", _probabilities);
        return embedding[0];
    }

    private sealed class Config : CaptureJobConfig
    {
        public Config()
            : base(("shallow-queue", ShallowQueueCalls), ("deep-queue", DeepQueueCalls))
        {
        }
    }
}
