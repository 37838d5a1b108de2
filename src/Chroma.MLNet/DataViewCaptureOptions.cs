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

    /// <summary>
    /// Training capture only: how many rows <c>Fit</c> queues between waits for delivery (see
    /// <see cref="DeliveryWait"/>), at most half the client's <see cref="ChromaClient.QueueCapacity"/> (a larger value is
    /// lowered to that, so no row finds the queue full before the wait). The default value is 1,024.
    /// </summary>
    public int ChunkSize { get; set; } = 1024;

    /// <summary>
    /// Training capture only: how long <c>Fit</c> may wait, after each chunk of <see cref="ChunkSize"/> rows and after the
    /// last rows, for the client to deliver what it queued, so a training set larger than the queue arrives whole and is
    /// on the server when <c>Fit</c> returns (<c>Fit</c> is a batch
    /// call, not a hot path: against a local server the capture took about twice as long as without waiting). After one
    /// wait times out (server down or slow), the rest is queued without waiting and the timeout is reported once as a
    /// capture problem; rows that then find the queue full are dropped and counted. The default value is 10 seconds;
    /// <see cref="TimeSpan.Zero"/> never waits (a training set larger than the queue then loses rows unless the sender
    /// keeps up).
    /// </summary>
    public TimeSpan DeliveryWait { get; set; } = TimeSpan.FromSeconds(10);

    private static readonly TimeSpan MaxDeliveryWait = TimeSpan.FromMilliseconds(uint.MaxValue - 1);

    internal DataViewCaptureOptions Validated()
    {
        ArgumentException.ThrowIfNullOrEmpty(EmbeddingColumn, nameof(EmbeddingColumn));
        if (ChunkSize <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(ChunkSize), ChunkSize, $"{nameof(ChunkSize)} must be positive.");
        }

        if (DeliveryWait < TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(DeliveryWait), DeliveryWait, $"{nameof(DeliveryWait)} must not be negative.");
        }

        // The wait is a timer, which refuses longer spans: accepted, the first chunk's wait threw inside capture and the
        // rest of the training set went uncaptured.
        if (DeliveryWait > MaxDeliveryWait)
        {
            throw new ArgumentOutOfRangeException(
                nameof(DeliveryWait), DeliveryWait, $"{nameof(DeliveryWait)} must be at most {MaxDeliveryWait} (about 49.7 days, the longest a .NET timer waits).");
        }

        if (Dataset is not null)
        {
            ChromaDatasets.ThrowIfInvalid(Dataset, nameof(Dataset));
        }

        return (DataViewCaptureOptions)MemberwiseClone();
    }
}
