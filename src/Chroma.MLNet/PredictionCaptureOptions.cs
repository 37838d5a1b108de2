using Chroma.MLNet.Internal;
using Microsoft.ML;

namespace Chroma;

/// <summary>
/// Selectors for a <see cref="ChromaPredictionEngine{TSrc, TDst}"/>, with defaults for ML.NET prediction classes: the
/// embedding is the <c>float[]</c> member mapped to column <see cref="FeaturesColumn"/> if there is one, else the one
/// mapped to <see cref="ScoreColumn"/>; the class probabilities are <see cref="ScoreColumn"/>; the predicted class is
/// <see cref="PredictedLabelColumn"/> (a <see cref="string"/> as is, a <see cref="uint"/> key through the engine's key
/// values, other values as invariant text). Any default can be replaced, e.g.
/// <c>Embedding = (input, output) =&gt; output.Features</c>.
/// </summary>
/// <typeparam name="TSrc">The engine's input class.</typeparam>
/// <typeparam name="TDst">The engine's prediction class.</typeparam>
public sealed class PredictionCaptureOptions<TSrc, TDst> : CaptureOptions<TSrc, TDst>
    where TSrc : class
    where TDst : class, new()
{
    /// <summary>The column of the default embedding when <typeparamref name="TDst"/> maps it.</summary>
    public const string FeaturesColumn = "Features";

    /// <summary>The column of the default class probabilities (and fallback embedding).</summary>
    public const string ScoreColumn = "Score";

    /// <summary>The column of the default predicted class.</summary>
    public const string PredictedLabelColumn = "PredictedLabel";

    /// <summary>Creates options with the defaults described on the type; key names are not known yet.</summary>
    public PredictionCaptureOptions()
        : this(outputSchema: null)
    {
    }

    /// <summary>Creates options whose default predicted class maps keys to the key values in <paramref name="outputSchema"/>.</summary>
    /// <param name="outputSchema">The engine's output schema, or <see langword="null"/>.</param>
    public PredictionCaptureOptions(DataViewSchema? outputSchema)
    {
        var score = OutputMembers<TDst>.Getter<float[]>(ScoreColumn);
        var features = OutputMembers<TDst>.Getter<float[]>(FeaturesColumn) ?? score;
        if (features is not null)
        {
            Embedding = (_, output) => features(output);
        }

        if (score is not null)
        {
            ClassProbabilities = (_, output) => score(output);
            DefaultClassProbabilities = ClassProbabilities;
            ScoreClassNames = outputSchema is null ? null : MLNet.Internal.ScoreClassNames.Read(outputSchema, ScoreColumn, PredictedLabelColumn);
        }

        var keyNames = outputSchema?.GetColumnOrNull(PredictedLabelColumn) is { } column ? ColumnTextReader.KeyNames(column) : null;
        if (OutputMembers<TDst>.Text(PredictedLabelColumn, keyNames) is { } predicted)
        {
            PredictedClass = (_, output) => predicted(output);
        }
    }

    /// <summary>The selector of the <c>Score</c> member this constructor set, to tell whether <see cref="CaptureOptions{TIn, TOut}.ClassProbabilities"/> was replaced.</summary>
    internal VectorSelector<TSrc, TDst>? DefaultClassProbabilities { get; }

    /// <summary>The class order of the output schema's <c>Score</c> column (<see cref="MLNet.Internal.ScoreClassNames.Read"/>), or <see langword="null"/>.</summary>
    internal string[]? ScoreClassNames { get; }
}
