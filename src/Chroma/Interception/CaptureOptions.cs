namespace Chroma;

/// <summary>
/// Picks a vector out of a captured call. Returning a span over memory the input or output already owns (a
/// <see cref="float"/> array property, say) keeps capture free of allocations; the client copies it at once.
/// </summary>
/// <typeparam name="TIn">What the wrapped call receives.</typeparam>
/// <typeparam name="TOut">What the wrapped call returns.</typeparam>
/// <param name="input">The call's input.</param>
/// <param name="output">The call's result.</param>
/// <returns>The vector, or an empty span for none.</returns>
public delegate ReadOnlySpan<float> VectorSelector<in TIn, in TOut>(TIn input, TOut output);

/// <summary>
/// Says what a decorator logs for each successful call: which vector is the embedding and, optionally, the predicted
/// class, the class probabilities, the ground-truth label, the input reference and metadata. A selector that throws is
/// reported through <see cref="ChromaClient.CaptureErrorCount"/> and the record is skipped; the call itself is never
/// affected. The decorator copies the selectors when it is created, so later changes to this object do not affect it.
/// </summary>
/// <typeparam name="TIn">What the wrapped call receives.</typeparam>
/// <typeparam name="TOut">What the wrapped call returns.</typeparam>
public class CaptureOptions<TIn, TOut>
{
    /// <summary>The embedding to log. Required: a decorator without one is rejected when it is created.</summary>
    public VectorSelector<TIn, TOut>? Embedding { get; set; }

    /// <summary>The predicted class, or <see langword="null"/> (the default) to log none.</summary>
    public Func<TIn, TOut, string?>? PredictedClass { get; set; }

    /// <summary>The class probabilities (index = class), or <see langword="null"/> (the default) to log none.</summary>
    public VectorSelector<TIn, TOut>? ClassProbabilities { get; set; }

    /// <summary>The ground-truth label, or <see langword="null"/> (the default) to log none.</summary>
    public Func<TIn, TOut, string?>? Label { get; set; }

    /// <summary>Where the input came from (file path, URL, row key), or <see langword="null"/> (the default) to log none.</summary>
    public Func<TIn, TOut, string?>? InputUri { get; set; }

    /// <summary>Free-form metadata per call, or <see langword="null"/> (the default) to log none.</summary>
    public Func<TIn, TOut, IReadOnlyDictionary<string, string>?>? Metadata { get; set; }

    /// <summary>
    /// The dataset the records go to, 1-64 characters of [A-Za-z0-9_.-]. The default value is
    /// <see cref="ChromaDatasets.Production"/>.
    /// </summary>
    public string Dataset { get; set; } = ChromaDatasets.Production;
}
