namespace Chroma;

/// <summary>
/// Which columns of an ML.NET <c>IDataView</c> a training or scoring decorator logs. Columns that are absent are not
/// logged, except <see cref="EmbeddingColumn"/>: without it nothing is captured (reported once, never thrown).
/// </summary>
public sealed class DataViewCaptureOptions
{
    /// <summary>
    /// The float-vector column logged as the embedding: a featurizer output, or the trainer's <c>Score</c>. The
    /// default value is <c>Features</c>.
    /// </summary>
    public string EmbeddingColumn { get; set; } = "Features";

    /// <summary>The ground-truth label column, logged by training capture. The default value is <c>Label</c>.</summary>
    public string? LabelColumn { get; set; } = "Label";

    /// <summary>The predicted class column, logged by scoring capture. The default value is <c>PredictedLabel</c>.</summary>
    public string? PredictedLabelColumn { get; set; } = "PredictedLabel";

    /// <summary>The class probability column, logged by scoring capture. The default value is <c>Score</c>.</summary>
    public string? ScoreColumn { get; set; } = "Score";

    /// <summary>A text column logged as the input URI, or <see langword="null"/> (the default) for none.</summary>
    public string? InputUriColumn { get; set; }

    /// <summary>
    /// The dataset, or <see langword="null"/> (the default) for <see cref="ChromaDatasets.Training"/> when capturing
    /// <c>Fit</c> and <see cref="ChromaDatasets.Production"/> when capturing <c>Transform</c>.
    /// </summary>
    public string? Dataset { get; set; }

    internal DataViewCaptureOptions Validated()
    {
        ArgumentException.ThrowIfNullOrEmpty(EmbeddingColumn, nameof(EmbeddingColumn));
        if (Dataset is not null)
        {
            Interception.Internal.CaptureGate.ValidateDataset(Dataset, nameof(Dataset));
        }

        return (DataViewCaptureOptions)MemberwiseClone();
    }
}
