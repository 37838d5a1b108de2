using Chroma.MLNet.Internal;
using Microsoft.ML;

namespace Chroma;

/// <summary>
/// A <see cref="PredictionEngine{TSrc, TDst}"/> that logs each prediction. Call it exactly like the engine: the same
/// predictions come back and the same exceptions are thrown; capture problems are counted, never thrown. Like the
/// engine, it is not thread-safe: use one per thread or a pool.
/// </summary>
/// <typeparam name="TSrc">The input class.</typeparam>
/// <typeparam name="TDst">The prediction class.</typeparam>
public sealed class ChromaPredictionEngine<TSrc, TDst> : IDisposable
    where TSrc : class
    where TDst : class, new()
{
    private const string Adapter = "ML.NET PredictionEngine";
    private readonly PredictionEngine<TSrc, TDst> _inner;
    private readonly PredictionRecorder<TSrc, TDst> _recorder;

    /// <summary>Wraps <paramref name="inner"/>.</summary>
    /// <param name="inner">The engine to forward to; disposed with this wrapper.</param>
    /// <param name="set">Where predictions go.</param>
    /// <param name="options">The selectors; see <see cref="PredictionCaptureOptions{TSrc, TDst}"/> for the defaults.</param>
    /// <exception cref="ArgumentException">No embedding selector, or an invalid dataset name.</exception>
    public ChromaPredictionEngine(PredictionEngine<TSrc, TDst> inner, EmbeddingSet set, CaptureOptions<TSrc, TDst> options)
    {
        ArgumentNullException.ThrowIfNull(inner);
        _inner = inner;
        ArgumentNullException.ThrowIfNull(set);
        ArgumentNullException.ThrowIfNull(options);
        if (options is PredictionCaptureOptions<TSrc, TDst> { ClassProbabilities: { } probabilities } defaults
            && ReferenceEquals(probabilities, defaults.DefaultClassProbabilities))
        {
            // The Score member is in the model's key order, not "0".."n-1": its class names go with it.
            set = ScoreClassNames.Apply(set, defaults.ScoreClassNames, Adapter);
        }

        _recorder = new PredictionRecorder<TSrc, TDst>(set, options, Adapter);
    }

    /// <summary>The wrapped engine.</summary>
    public PredictionEngine<TSrc, TDst> Inner => _inner;

    /// <summary>The engine's output schema.</summary>
    public DataViewSchema OutputSchema => _inner.OutputSchema;

    /// <summary>Predicts like <see cref="PredictionEngineBase{TSrc, TDst}.Predict(TSrc)"/> and logs the prediction.</summary>
    /// <param name="example">The input.</param>
    /// <returns>The engine's prediction.</returns>
    public TDst Predict(TSrc example)
    {
        if (!_recorder.IsOpen)
        {
            return _inner.Predict(example);
        }

        var prediction = _inner.Predict(example);
        _recorder.Record(example, prediction);
        return prediction;
    }

    /// <summary>Predicts into an existing object, like the engine's overload, and logs the prediction.</summary>
    /// <param name="example">The input.</param>
    /// <param name="prediction">The object to fill (or replace), as the engine does.</param>
    public void Predict(TSrc example, ref TDst prediction)
    {
        if (!_recorder.IsOpen)
        {
            _inner.Predict(example, ref prediction);
            return;
        }

        _inner.Predict(example, ref prediction);
        _recorder.Record(example, prediction);
    }

    /// <summary>Disposes the wrapped engine.</summary>
    public void Dispose() => _inner.Dispose();
}
