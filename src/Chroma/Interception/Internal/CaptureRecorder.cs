namespace Chroma.Interception.Internal;

/// <summary>
/// A frozen copy of <see cref="CaptureOptions{TIn, TOut}"/> bound to a set: turns one finished call into one
/// <c>Log</c> call. Every failure inside is reported, never thrown.
/// </summary>
internal sealed class CaptureRecorder<TIn, TOut>
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
    public CaptureRecorder(EmbeddingSet set, CaptureOptions<TIn, TOut> options, string adapter)
    {
        ArgumentNullException.ThrowIfNull(set);
        Validate(options);
        _embedding = options.Embedding!;
        _set = set;
        _adapter = adapter;
        _dataset = options.Dataset;
        _probabilities = options.ClassProbabilities;
        _predictedClass = options.PredictedClass;
        _label = options.Label;
        _inputUri = options.InputUri;
        _metadata = options.Metadata;
    }

    public EmbeddingSet Set => _set;

    /// <exception cref="ArgumentException">No embedding selector, or an invalid dataset name.</exception>
    public static void Validate(CaptureOptions<TIn, TOut> options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.Embedding is null)
        {
            throw new ArgumentException($"{nameof(CaptureOptions<TIn, TOut>.Embedding)} must be set: it says which vector to log.", nameof(options));
        }

        CaptureGate.ValidateDataset(options.Dataset, nameof(CaptureOptions<TIn, TOut>.Dataset));
    }

    public bool IsOpen => CaptureGate.IsOpen(_set);

    /// <summary>Logs one finished call. Never throws.</summary>
    public void Record(TIn input, TOut output)
    {
        try
        {
            var embedding = _embedding(input, output);
            var probabilities = _probabilities is null ? default : _probabilities(input, output);
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
            CaptureGate.Report(_set, _adapter, ex);
        }
    }

    /// <summary>
    /// Logs the call when <paramref name="task"/> succeeds. The caller keeps returning the very same task, so its
    /// result and exception reach the user untouched; a failed or cancelled call is not logged. The continuation is
    /// registered before the caller sees the task, so when the task completes its continuations inline the record is
    /// queued before the caller resumes; a task that runs continuations asynchronously may resume the caller first.
    /// </summary>
    public void RecordWhenDone(TIn input, Task<TOut> task)
    {
        if (task.IsCompletedSuccessfully)
        {
            Record(input, task.Result);
            return;
        }

        try
        {
            // ExecuteSynchronously: Record only copies into a queue, so it is cheap enough for the completing thread.
            _ = task.ContinueWith(
                static (finished, state) =>
                {
                    var (recorder, captured) = ((CaptureRecorder<TIn, TOut>, TIn))state!;
                    if (finished.IsCompletedSuccessfully)
                    {
                        recorder.Record(captured, finished.Result);
                    }
                },
                (this, input),
                CancellationToken.None,
                TaskContinuationOptions.ExecuteSynchronously,
                TaskScheduler.Default);
        }
#pragma warning disable CA1031 // Scheduling the capture must not fail the user's call.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            CaptureGate.Report(_set, _adapter, ex);
        }
    }

    /// <summary>
    /// Logs the call when <paramref name="pending"/> succeeds and returns a value task with the same outcome. A value
    /// task may be consumed only once, so a pending one is turned into a task that both the user and capture observe.
    /// </summary>
    public ValueTask<TOut> RecordWhenDone(TIn input, ValueTask<TOut> pending)
    {
        if (pending.IsCompletedSuccessfully)
        {
            var result = pending.Result;
            Record(input, result);
            return new ValueTask<TOut>(result);
        }

        var task = pending.AsTask();
        RecordWhenDone(input, task);
        return new ValueTask<TOut>(task);
    }
}
