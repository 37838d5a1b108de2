using BenchmarkDotNet.Attributes;
using Chroma.TorchSharp;
using static TorchSharp.torch;

namespace Chroma.Benchmarks.Capture;

/// <summary>
/// A TorchSharp forward of the 784-256-128-10 perceptron (inference mode, no gradients, one intra-op thread), bare
/// and with Chroma's forward hooks capturing the 128-wide penultimate layer, the arg-max and the softmax of the logits
/// for every batch element.
/// </summary>
[Config(typeof(Config))]
public class TorchForwardBenchmarks
{
    private const int ForwardsPerIteration = 1_024;

    private BenchMlp _bare = null!;
    private BenchMlp _captured = null!;
    private ChromaModuleCapture _capture = null!;
    private ChromaClient _client = null!;
    private Tensor _input = null!;
    private IDisposable _noGrad = null!;

    [Params(1, 64)]
    public int BatchSize { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        set_num_threads(1); // the 2-core benchmark machine is shared with the client's background sender
        manual_seed(1);
        _bare = new BenchMlp();
        manual_seed(1);
        _captured = new BenchMlp();
        _bare.eval();
        _captured.eval();
        _input = randn(BatchSize, 784);
        _client = AckingIngestSessions.CreateClient(queueCapacity: 2 * ForwardsPerIteration * BatchSize);
        var set = _client.GetEmbeddingSet(new EmbeddingSetDescriptor("bench-mlp", "1", "fc2", 128));
        _capture = _captured.CaptureWithChroma(set, _captured.Penultimate);
        _noGrad = no_grad();
    }

    /// <summary>Drains the queue between iterations (not measured) so the next iteration's rows all fit.</summary>
    [IterationCleanup]
    public void Drain() => _client.FlushAsync().WaitAsync(TimeSpan.FromSeconds(60)).GetAwaiter().GetResult();

    [GlobalCleanup]
    public void Cleanup()
    {
        var statistics = _client.Statistics;
        var errors = _client.CaptureErrorCount;
        _noGrad.Dispose();
        _capture.Dispose();
        _client.DisposeAsync().AsTask().GetAwaiter().GetResult();
        _input.Dispose();
        _bare.Dispose();
        _captured.Dispose();
        Console.WriteLine($"// capture statistics: {statistics}, capture errors: {errors}");
        if (statistics.Dropped > 0 || errors > 0)
        {
            throw new InvalidOperationException($"Capture did not take the enqueue path ({statistics}, errors {errors}).");
        }
    }

    // Each forward runs in a dispose scope, as TorchSharp advises: a temporary left to the finalizer can be collected
    // while a native call still uses its handle once the GC runs, and the captured run does make the GC run.
    [Benchmark(Baseline = true, Description = "TorchSharp forward: bare")]
    public void Bare()
    {
        using var scope = NewDisposeScope();
        _bare.call(_input);
    }

    [Benchmark(Description = "TorchSharp forward + Chroma hooks")]
    public void Captured()
    {
        using var scope = NewDisposeScope();
        _captured.call(_input);
    }

    private sealed class Config : CaptureJobConfig
    {
        public Config()
            : base(("forwards-1024", ForwardsPerIteration))
        {
        }
    }
}
