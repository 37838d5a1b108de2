namespace Chroma;

/// <summary>
/// A record to import with <see cref="ChromaClient.ImportAsync(EmbeddingSetDescriptor, IEnumerable{ImportRecord}, ImportOptions, CancellationToken)"/>, kept as it is: its id, dataset and timestamp are sent
/// unchanged, so importing the same records twice stores them once (for example records read from another server with
/// <see cref="ChromaClient.GetRecordsAsync"/>, or an export file). A record without a <see cref="Timestamp"/> takes the
/// time of each import, so importing it again is a conflict (a record's timestamp is part of its content): give records
/// their timestamps (or <see cref="DateTimeOffset.UnixEpoch"/>, the protocol's "unknown") when an import may be repeated.
/// </summary>
public sealed class ImportRecord
{
    /// <summary>Gets the record id (a UUID), or <see langword="null"/> (the default) for a new UUIDv7.</summary>
    public string? Id { get; init; }

    /// <summary>Gets the dataset. The default value is <see cref="ChromaDatasets.Production"/>.</summary>
    public string Dataset { get; init; } = ChromaDatasets.Production;

    /// <summary>Gets the embedding (the set's dimension, finite values).</summary>
    public required ReadOnlyMemory<float> Embedding { get; init; }

    /// <summary>Gets where the input came from, or <see langword="null"/> (the default).</summary>
    public string? InputUri { get; init; }

    /// <summary>Gets the ground-truth label, or <see langword="null"/> (the default).</summary>
    public string? Label { get; init; }

    /// <summary>Gets the predicted class, or <see langword="null"/> (the default).</summary>
    public string? PredictedClass { get; init; }

    /// <summary>Gets the class probabilities, or empty (the default).</summary>
    public ReadOnlyMemory<float> ClassProbabilities { get; init; }

    /// <summary>
    /// Gets the class name of each of <see cref="ClassProbabilities"/> (as <see cref="ChromaRecord.ClassNames"/> reads
    /// them), or <see langword="null"/> (the default): without them the server reads the probabilities as classes "0",
    /// "1", ... in order.
    /// </summary>
    public IReadOnlyList<string>? ClassNames { get; init; }

    /// <summary>Gets the metadata, or <see langword="null"/> (the default) for none.</summary>
    public IReadOnlyDictionary<string, string>? Metadata { get; init; }

    /// <summary>Gets when the call was captured, or <see langword="null"/> (the default) for the time of the import.</summary>
    public DateTimeOffset? Timestamp { get; init; }
}
