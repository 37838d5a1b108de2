using Microsoft.ML;

namespace Chroma;

/// <summary>Adds Chroma capture to ML.NET prediction engines, estimators and fitted models.</summary>
public static class MLNetCaptureExtensions
{
    /// <summary>Wraps a prediction engine so each prediction is logged.</summary>
    /// <param name="engine">The engine.</param>
    /// <param name="set">Where predictions go.</param>
    /// <param name="configure">Adjusts the defaults of <see cref="PredictionCaptureOptions{TSrc, TDst}"/>, or <see langword="null"/>.</param>
    /// <returns>A wrapper with the engine's <c>Predict</c> methods.</returns>
    /// <exception cref="ArgumentException">No embedding could be chosen (set <c>Embedding</c>), or an invalid dataset name.</exception>
    public static ChromaPredictionEngine<TSrc, TDst> WithChroma<TSrc, TDst>(
        this PredictionEngine<TSrc, TDst> engine,
        EmbeddingSet set,
        Action<PredictionCaptureOptions<TSrc, TDst>>? configure = null)
        where TSrc : class
        where TDst : class, new()
    {
        ArgumentNullException.ThrowIfNull(engine);
        var options = new PredictionCaptureOptions<TSrc, TDst>(engine.OutputSchema);
        configure?.Invoke(options);
        return new ChromaPredictionEngine<TSrc, TDst>(engine, set, options);
    }

    /// <summary>Wraps an estimator so <c>Fit</c> logs the training rows with their labels.</summary>
    /// <param name="estimator">The estimator or pipeline.</param>
    /// <param name="set">Where training rows go.</param>
    /// <param name="configure">Adjusts which columns are logged, or <see langword="null"/> for the defaults.</param>
    /// <returns>An estimator whose <c>Fit</c> returns the inner model unchanged.</returns>
    public static ChromaEstimator<TTransformer> WithChroma<TTransformer>(
        this IEstimator<TTransformer> estimator,
        EmbeddingSet set,
        Action<DataViewCaptureOptions>? configure = null)
        where TTransformer : ITransformer
    {
        var options = new DataViewCaptureOptions();
        configure?.Invoke(options);
        return new ChromaEstimator<TTransformer>(estimator, set, options);
    }

    /// <summary>Wraps a fitted model so <c>Transform</c> (batch scoring) logs the scored rows as they are read.</summary>
    /// <param name="model">The fitted model.</param>
    /// <param name="set">Where scored rows go.</param>
    /// <param name="configure">Adjusts which columns are logged, or <see langword="null"/> for the defaults.</param>
    /// <returns>A model that scores like <paramref name="model"/>.</returns>
    public static ChromaTransformer WithChroma(this ITransformer model, EmbeddingSet set, Action<DataViewCaptureOptions>? configure = null)
    {
        var options = new DataViewCaptureOptions();
        configure?.Invoke(options);
        return new ChromaTransformer(model, set, options);
    }
}
