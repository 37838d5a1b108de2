using BenchmarkDotNet.Attributes;
using Chroma.Samples.MLNet;
using Microsoft.ML;
using Microsoft.ML.Transforms;

namespace Chroma.Benchmarks.Capture;

/// <summary>
/// Chroma's decorators on real calls, bare next to wrapped: the ML.NET <c>PredictionEngine</c> of the MLNet sample's
/// MNIST model (PCA to 32 dimensions + SDCA maximum entropy, trained on 2,000 digits in setup), and a trivial
/// <c>Func</c> returning a 128-float embedding wrapped by <see cref="ChromaCapture.Wrap{TIn,TOut}"/> (its fixed cost).
/// </summary>
[Config(typeof(Config))]
public class DecoratorBenchmarks
{
    private const int CallsPerIteration = 1_000;

    private readonly float[] _embedding = new float[128];
    private List<DigitImage> _digits = null!;
    private PredictionEngine<DigitImage, DigitPrediction> _engine = null!;
    private ChromaPredictionEngine<DigitImage, DigitPrediction> _wrappedEngine = null!;
    private Func<float[], float[]> _func = null!;
    private Func<float[], float[]> _wrappedFunc = null!;
    private ChromaClient _client = null!;
    private int _next;

    [GlobalSetup]
    public void Setup()
    {
        _digits = DigitData.Load(DigitData.FindDataDirectory(), "mnist", letters: false).Take(3_000).ToList();
        var ml = new MLContext(seed: 1);
        var pipeline = ml.Transforms.Conversion.MapValueToKey("Label", keyOrdinality: ValueToKeyMappingEstimator.KeyOrdinality.ByValue)
            .Append(ml.Transforms.ProjectToPrincipalComponents("Embedding", "Pixels", rank: 32, seed: 1))
            .Append(ml.Transforms.NormalizeMeanVariance("Features", "Embedding"))
            .Append(ml.MulticlassClassification.Trainers.SdcaMaximumEntropy("Label", "Features", maximumNumberOfIterations: 10))
            .Append(ml.Transforms.Conversion.MapKeyToValue("PredictedLabel"));
        var model = pipeline.Fit(ml.Data.LoadFromEnumerable(_digits.Take(2_000)));

        _client = AckingIngestSessions.CreateClient(queueCapacity: 4 * CallsPerIteration);
        var digits = _client.GetEmbeddingSet(new EmbeddingSetDescriptor("bench-mlnet", "1", "pca32", 32));
        _engine = ml.Model.CreatePredictionEngine<DigitImage, DigitPrediction>(model);
        _wrappedEngine = ml.Model.CreatePredictionEngine<DigitImage, DigitPrediction>(model)
            .WithChroma(digits, o => o.Embedding = (_, prediction) => prediction.Embedding);

        var embedding = _embedding;
        _func = _ => embedding;
        var vectors = _client.GetEmbeddingSet(new EmbeddingSetDescriptor("bench-func", "1", "fc2", 128));
        _wrappedFunc = ChromaCapture.Wrap(_func, vectors, o => o.Embedding = (_, output) => output);
    }

    /// <summary>Drains the queue between iterations (not measured).</summary>
    [IterationCleanup]
    public void Drain() => _client.FlushAsync().WaitAsync(TimeSpan.FromSeconds(30)).GetAwaiter().GetResult();

    [GlobalCleanup]
    public void Cleanup()
    {
        var statistics = _client.Statistics;
        _engine.Dispose();
        _wrappedEngine.Dispose();
        _client.DisposeAsync().AsTask().GetAwaiter().GetResult();
        Console.WriteLine($"// capture statistics: {statistics}; capture errors: {_client.CaptureErrorCount}");
        if (statistics.Dropped > 0 || _client.CaptureErrorCount > 0)
        {
            throw new InvalidOperationException($"Rows were dropped or failed ({statistics}): the enqueue path was not what was measured.");
        }
    }

    [Benchmark(Baseline = true, Description = "PredictionEngine.Predict: bare")]
    public string PredictBare() => _engine.Predict(NextDigit()).PredictedLabel;

    [Benchmark(Description = "PredictionEngine.Predict + Chroma (32-d embedding, class, 10 probabilities)")]
    public string PredictCaptured() => _wrappedEngine.Predict(NextDigit()).PredictedLabel;

    [Benchmark(Description = "Func: bare call")]
    public float FuncBare() => _func(_embedding)[0];

    [Benchmark(Description = "Func + ChromaCapture.Wrap (128-float embedding)")]
    public float FuncCaptured() => _wrappedFunc(_embedding)[0];

    private DigitImage NextDigit()
    {
        _next = (_next + 1) % _digits.Count;
        return _digits[_next];
    }

    private sealed class Config : CaptureJobConfig
    {
        public Config()
            : base(("calls-1000", CallsPerIteration))
        {
        }
    }
}
