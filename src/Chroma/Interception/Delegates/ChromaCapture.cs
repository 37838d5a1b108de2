using Chroma.Interception.Internal;

namespace Chroma;

/// <summary>
/// Wraps any function so each successful call is logged to an <see cref="EmbeddingSet"/>. The wrapper returns what the
/// function returns and throws what it throws (the same exception object, stack intact); capture problems are
/// counted, never thrown. With <see cref="ChromaClient.CaptureEnabled"/> off, or inside the SDK's own calls, the
/// wrapper only forwards. The three names keep lambdas unambiguous: <see cref="Wrap{TIn, TOut}"/> for synchronous
/// functions, <see cref="WrapTask{TIn, TOut}"/> and <see cref="WrapValueTask{TIn, TOut}"/> for asynchronous ones, whose
/// calls are logged when they succeed.
/// </summary>
public static class ChromaCapture
{
    /// <summary>Wraps a synchronous function.</summary>
    /// <param name="function">The function to wrap.</param>
    /// <param name="set">Where records go.</param>
    /// <param name="configure">Sets the selectors; <see cref="CaptureOptions{TIn, TOut}.Embedding"/> is required.</param>
    /// <returns>A function to call instead of <paramref name="function"/>.</returns>
    /// <exception cref="ArgumentException">No embedding selector, or an invalid dataset name.</exception>
    public static Func<TIn, TOut> Wrap<TIn, TOut>(Func<TIn, TOut> function, EmbeddingSet set, Action<CaptureOptions<TIn, TOut>> configure)
    {
        ArgumentNullException.ThrowIfNull(function);
        var recorder = CreateRecorder(set, configure, "delegate");
        return input =>
        {
            if (!recorder.IsOpen)
            {
                return function(input);
            }

            // An exception leaves here untouched; there is no result to log then.
            var output = function(input);
            recorder.Record(input, output);
            return output;
        };
    }

    /// <summary>Wraps an asynchronous function; the call is logged when its task succeeds.</summary>
    /// <param name="function">The function to wrap.</param>
    /// <param name="set">Where records go.</param>
    /// <param name="configure">Sets the selectors over the input and the awaited result.</param>
    /// <returns>A function returning the very task <paramref name="function"/> returns.</returns>
    /// <exception cref="ArgumentException">No embedding selector, or an invalid dataset name.</exception>
    public static Func<TIn, Task<TOut>> WrapTask<TIn, TOut>(
        Func<TIn, Task<TOut>> function,
        EmbeddingSet set,
        Action<CaptureOptions<TIn, TOut>> configure)
    {
        ArgumentNullException.ThrowIfNull(function);
        var recorder = CreateRecorder(set, configure, "async delegate");
        return input =>
        {
            if (!recorder.IsOpen)
            {
                return function(input);
            }

            var task = function(input);
            if (task is not null)
            {
                recorder.RecordWhenDone(input, task);
            }

            return task!;
        };
    }

    /// <summary>Wraps a function returning a <see cref="ValueTask{TResult}"/>; the call is logged when it succeeds.</summary>
    /// <param name="function">The function to wrap.</param>
    /// <param name="set">Where records go.</param>
    /// <param name="configure">Sets the selectors over the input and the awaited result.</param>
    /// <returns>A function whose value task has the same result or exception.</returns>
    /// <exception cref="ArgumentException">No embedding selector, or an invalid dataset name.</exception>
    public static Func<TIn, ValueTask<TOut>> WrapValueTask<TIn, TOut>(
        Func<TIn, ValueTask<TOut>> function,
        EmbeddingSet set,
        Action<CaptureOptions<TIn, TOut>> configure)
    {
        ArgumentNullException.ThrowIfNull(function);
        var recorder = CreateRecorder(set, configure, "async delegate");
        return input => recorder.IsOpen ? recorder.RecordWhenDone(input, function(input)) : function(input);
    }

    private static CaptureRecorder<TIn, TOut> CreateRecorder<TIn, TOut>(EmbeddingSet set, Action<CaptureOptions<TIn, TOut>> configure, string adapter)
    {
        ArgumentNullException.ThrowIfNull(set);
        ArgumentNullException.ThrowIfNull(configure);
        var options = new CaptureOptions<TIn, TOut>();
        configure(options);
        return new CaptureRecorder<TIn, TOut>(set, options, adapter);
    }
}
