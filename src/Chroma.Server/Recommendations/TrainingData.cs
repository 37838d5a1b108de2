namespace Chroma.Server.Recommendations;

/// <summary>
/// Labelled training embeddings of one embedding set: <see cref="Count"/> rows of
/// <see cref="Dimension"/> floats stored contiguously (row-major), one label per row.
/// </summary>
internal sealed class TrainingData
{
    private readonly float[] _embeddings;
    private readonly IReadOnlyList<float[]?>? _probabilities;
    private readonly IReadOnlyList<string?>? _predictedClasses;

    /// <summary>Validates and wraps the training rows (the arrays are not copied; do not mutate them).</summary>
    /// <param name="embeddings">Row-major <c>labels.Count x dimension</c> floats, all finite.</param>
    /// <param name="dimension">Embedding dimension, at least 1.</param>
    /// <param name="labels">One label per row: all non-empty, or all "" (an unlabelled corpus, which gives the model no classes).</param>
    public TrainingData(float[] embeddings, int dimension, IReadOnlyList<string> labels)
    {
        ArgumentNullException.ThrowIfNull(embeddings);
        ArgumentNullException.ThrowIfNull(labels);
        ArgumentOutOfRangeException.ThrowIfLessThan(dimension, 1);
        if (embeddings.Length != (long)labels.Count * dimension)
        {
            throw new ArgumentException(
                $"embeddings has {embeddings.Length} floats but labels.Count x dimension is {(long)labels.Count * dimension}.",
                nameof(embeddings));
        }

        // Every row labelled, or none (an unlabelled corpus: the engine then has no classes).
        var unlabelled = labels.Count > 0 && string.IsNullOrEmpty(labels[0]);
        for (var i = 0; i < labels.Count; i++)
        {
            if (labels[i] is null || string.IsNullOrEmpty(labels[i]) != unlabelled)
            {
                throw new ArgumentException(
                    $"labels[{i}] is {(labels[i] is null ? "null" : string.IsNullOrEmpty(labels[i]) ? "empty" : "a label")}; every training record needs a label, or none does (an unlabelled corpus, every label \"\").",
                    nameof(labels));
            }
        }

        EmbeddingValidation.ThrowIfNotFinite(embeddings, dimension, nameof(embeddings));
        _embeddings = embeddings;
        Dimension = dimension;
        Labels = labels;
    }

    /// <summary>
    /// Gets the class probabilities the model gave each training record (null entries where none were
    /// logged), or null. Used to calibrate the uncertainty signals, and where a record has no
    /// <see cref="PredictedClasses"/> entry their largest names its predicted class (<see cref="PredictedClass"/>); length
    /// must equal <see cref="Count"/>.
    /// </summary>
    public IReadOnlyList<float[]?>? Probabilities
    {
        get => _probabilities;
        init
        {
            if (value is not null && value.Count != Labels.Count)
            {
                throw new ArgumentException($"Probabilities has {value.Count} entries; there are {Labels.Count} records.", nameof(Probabilities));
            }

            _probabilities = value;
        }
    }

    /// <summary>
    /// Gets the class the model predicted for each training record (null entries where none was logged), or null; length
    /// must equal <see cref="Count"/>. A held-out record's boundary signal is measured against it, as a production
    /// record's is against its prediction (<see cref="PredictedClass"/>).
    /// </summary>
    public IReadOnlyList<string?>? PredictedClasses
    {
        get => _predictedClasses;
        init
        {
            if (value is not null && value.Count != Labels.Count)
            {
                throw new ArgumentException($"PredictedClasses has {value.Count} entries; there are {Labels.Count} records.", nameof(PredictedClasses));
            }

            _predictedClasses = value;
        }
    }

    /// <summary>
    /// Gets the embedding set's metric, which the neighbour signals use. The default value is
    /// <see cref="NeighborMetric.Cosine"/> (the server sets it from the set).
    /// </summary>
    public NeighborMetric Metric { get; init; } = NeighborMetric.Cosine;

    /// <summary>All embeddings as the row-major array they are held in (not a copy; do not mutate it).</summary>
    internal float[] EmbeddingArray => _embeddings;

    /// <summary>Number of training records.</summary>
    public int Count => Labels.Count;

    /// <summary>Embedding dimension.</summary>
    public int Dimension { get; }

    /// <summary>Label of each record.</summary>
    public IReadOnlyList<string> Labels { get; }

    /// <summary>All embeddings, row-major.</summary>
    public ReadOnlyMemory<float> Embeddings => _embeddings;

    /// <summary>The embedding of record <paramref name="index"/>.</summary>
    public ReadOnlySpan<float> Row(int index) => _embeddings.AsSpan(index * Dimension, Dimension);

    /// <summary>
    /// The class the model predicted for record <paramref name="index"/>: its <see cref="PredictedClasses"/> entry, else
    /// the largest of its usable <see cref="Probabilities"/> named by index ("0".."n-1", <see cref="ArgMaxClass"/>), else
    /// null (the model's prediction is unknown).
    /// </summary>
    public string? PredictedClass(int index) =>
        _predictedClasses?[index] is { Length: > 0 } predicted ? predicted : ArgMaxClass.Of(_probabilities?[index]);
}
