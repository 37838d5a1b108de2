namespace Chroma.Server.Validation;

/// <summary>
/// How large a request may be (section <c>Chroma:Limits</c>, e.g. <c>Chroma__Limits__MaxBatchRecords</c>): records per
/// batch, embedding dimension, message size, metadata, input URI and page sizes. Requests beyond a limit are answered
/// <c>InvalidArgument</c> naming the field and the limit; nothing of them is stored.
/// </summary>
public sealed class LimitsOptions
{
    /// <summary>The configuration section, below <c>Chroma</c>.</summary>
    public const string SectionName = "Limits";

    /// <summary>Gets or sets the most records one ingest batch (or one delete, tag or Studio action) may hold (1..1 000 000). The default value is 10 000.</summary>
    public int MaxBatchRecords { get; set; } = 10_000;

    /// <summary>Gets or sets the largest embedding dimension a set may declare (1..1 048 576). The default value is 16 384.</summary>
    public int MaxDimension { get; set; } = 16_384;

    /// <summary>
    /// Gets or sets the largest gRPC message the server accepts, in bytes (at least 1024).
    /// The default value is 67 108 864 (64 MiB).
    /// </summary>
    public int MaxMessageBytes { get; set; } = 64 * 1024 * 1024;

    /// <summary>Gets or sets the most metadata entries one record (or one tag request) may carry (0..10 000). The default value is 32.</summary>
    public int MaxMetadataEntries { get; set; } = 32;

    /// <summary>Gets or sets the longest metadata key, in characters (1..65 536). The default value is 128.</summary>
    public int MaxMetadataKeyLength { get; set; } = 128;

    /// <summary>
    /// Gets or sets the longest metadata value, label, predicted class or class name, in characters (1..1 048 576).
    /// The default value is 1024.
    /// </summary>
    public int MaxMetadataValueLength { get; set; } = 1024;

    /// <summary>Gets or sets the longest input URI, in characters (1..1 048 576). The default value is 2048.</summary>
    public int MaxInputUriLength { get; set; } = 2048;

    /// <summary>
    /// Gets or sets the most records one query page (or one list of ids) may return (1..100 000).
    /// The default value is 1000.
    /// </summary>
    public int MaxPageSize { get; set; } = 1000;

    /// <summary>Copies these options.</summary>
    /// <summary>
    /// Gets or sets whether a record's predicted_class and class_names are held to <see cref="ClassNameRule"/>. Off only
    /// for promotion's training copies, whose inference is a stored record's, kept as it was stored (perhaps before the
    /// rule). The default value is true.
    /// </summary>
    internal bool CheckInferenceClassNames { get; set; } = true;

    internal LimitsOptions Clone() => (LimitsOptions)MemberwiseClone();
}
