namespace Chroma;

/// <summary>A label for one production record, for <see cref="ChromaClient.LabelAsync"/>.</summary>
public sealed class RecordLabel
{
    /// <summary>Gets the record to label.</summary>
    public required string RecordId { get; init; }

    /// <summary>Gets the label (1-256 characters).</summary>
    public required string Label { get; init; }

    /// <summary>Gets an optional note (up to 2,000 characters). The default value is <see langword="null"/>.</summary>
    public string? Note { get; init; }
}
