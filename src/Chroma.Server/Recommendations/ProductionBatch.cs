namespace Chroma.Server.Recommendations;

/// <summary>
/// Production records to score: id, embedding (row-major, contiguous), and the model's optional
/// inference (predicted class, class probabilities) per record.
/// </summary>
internal sealed class ProductionBatch
{
    private readonly float[] _embeddings;

    /// <summary>Validates and wraps a batch (the arrays are not copied; do not mutate them).</summary>
    /// <param name="ids">Record ids, one per row.</param>
    /// <param name="embeddings">Row-major <c>ids.Count x dimension</c> floats, all finite.</param>
    /// <param name="dimension">Embedding dimension, equal to the training dimension.</param>
    /// <param name="predictedClasses">Predicted class per record (null entries allowed), or null for none.</param>
    /// <param name="probabilities">Class probabilities per record (null entries allowed), or null for none.</param>
    public ProductionBatch(
        IReadOnlyList<string> ids,
        float[] embeddings,
        int dimension,
        IReadOnlyList<string?>? predictedClasses = null,
        IReadOnlyList<float[]?>? probabilities = null)
    {
        ArgumentNullException.ThrowIfNull(ids);
        ArgumentNullException.ThrowIfNull(embeddings);
        ArgumentOutOfRangeException.ThrowIfLessThan(dimension, 1);
        if (embeddings.Length != (long)ids.Count * dimension)
        {
            throw new ArgumentException(
                $"embeddings has {embeddings.Length} floats but ids.Count x dimension is {(long)ids.Count * dimension}.",
                nameof(embeddings));
        }

        if (predictedClasses is not null && predictedClasses.Count != ids.Count)
        {
            throw new ArgumentException($"predictedClasses has {predictedClasses.Count} entries, expected {ids.Count}.", nameof(predictedClasses));
        }

        if (probabilities is not null)
        {
            if (probabilities.Count != ids.Count)
            {
                throw new ArgumentException($"probabilities has {probabilities.Count} entries, expected {ids.Count}.", nameof(probabilities));
            }

            for (var i = 0; i < probabilities.Count; i++)
            {
                PredictionUncertainty.ThrowIfInvalid(probabilities[i], i);
            }
        }

        EmbeddingValidation.ThrowIfNotFinite(embeddings, dimension, nameof(embeddings));
        _embeddings = embeddings;
        Ids = ids;
        Dimension = dimension;
        PredictedClasses = predictedClasses;
        Probabilities = probabilities;
    }

    /// <summary>Number of records.</summary>
    public int Count => Ids.Count;

    /// <summary>Embedding dimension.</summary>
    public int Dimension { get; }

    /// <summary>Record ids.</summary>
    public IReadOnlyList<string> Ids { get; }

    /// <summary>Predicted class per record, or null when the batch has none.</summary>
    public IReadOnlyList<string?>? PredictedClasses { get; }

    /// <summary>Class probabilities per record, or null when the batch has none.</summary>
    public IReadOnlyList<float[]?>? Probabilities { get; }

    /// <summary>All embeddings, row-major.</summary>
    public ReadOnlyMemory<float> Embeddings => _embeddings;

    /// <summary>The embedding of record <paramref name="index"/>.</summary>
    public ReadOnlySpan<float> Row(int index) => _embeddings.AsSpan(index * Dimension, Dimension);

    /// <summary>Predicted class of record <paramref name="index"/>, or null.</summary>
    public string? PredictedClass(int index) => PredictedClasses?[index];

    /// <summary>Class probabilities of record <paramref name="index"/>, or null.</summary>
    public float[]? ProbabilitiesOf(int index) => Probabilities?[index];
}
