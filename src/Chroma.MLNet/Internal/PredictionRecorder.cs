namespace Chroma.MLNet.Internal;

/// <summary>
/// A frozen copy of <see cref="CaptureOptions{TIn, TOut}"/> bound to a set: turns one prediction into one
/// <c>Log</c> call. Every failure inside is reported, never thrown.
/// </summary>
internal sealed class PredictionRecorder<TIn, TOut>
{
    private readonly EmbeddingSet _set;
    private readonly string _adapter;
    private readonly string _dataset;
    private readonly VectorSelector<TIn, TOut> _embedding;
    private readonly VectorSelector<TIn, TOut>? _probabilities;
    private readonly Func<TIn, TOut, string?>? _predictedClass;
    private readonly Func<TIn, TOut, string?>? _label;
    private readonly Func<TIn, TOut, string?>? _inputUri;
    private readonly Func<TIn, TOut, IReadOnlyDictionary<string, string>?>? _metadata;

    /// <exception cref="ArgumentException">No embedding selector, or an invalid dataset name.</exception>
    public PredictionRecorder(EmbeddingSet set, CaptureOptions<TIn, TOut> options, string adapter)
    {
        ArgumentNullException.ThrowIfNull(set);
        ArgumentNullException.ThrowIfNull(options);
        if (options.Embedding is null)
        {
            throw new ArgumentException($"{nameof(CaptureOptions<TIn, TOut>.Embedding)} must be set: it says which vector to log.", nameof(options));
        }

        ChromaDatasets.ThrowIfInvalid(options.Dataset, nameof(CaptureOptions<TIn, TOut>.Dataset));
        _embedding = options.Embedding;
        _set = set;
        _adapter = adapter;
        _dataset = options.Dataset;
        _probabilities = options.ClassProbabilities;
        _predictedClass = options.PredictedClass;
        _label = options.Label;
        _inputUri = options.InputUri;
        _metadata = options.Metadata;
    }

    public bool IsOpen => _set.ShouldCapture;

    /// <summary>Logs one prediction. Never throws.</summary>
    public void Record(TIn input, TOut output)
    {
        try
        {
            var embedding = _embedding(input, output);
            var probabilities = _probabilities is null ? default : FiniteScores.OrNone(_probabilities(input, output), _set, _adapter);
            _set.Log(
                _dataset,
                embedding,
                _label?.Invoke(input, output),
                _predictedClass?.Invoke(input, output),
                probabilities,
                _inputUri?.Invoke(input, output),
                _metadata?.Invoke(input, output));
        }
#pragma warning disable CA1031 // A selector may throw anything; it must never reach the caller of the wrapped call.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            _set.ReportCaptureError(_adapter, ex);
        }
    }
}
