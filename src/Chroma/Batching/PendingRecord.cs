namespace Chroma.Batching;

/// <summary>
/// One captured call waiting in the queue. A struct, so queueing allocates nothing beyond the pooled embedding copy;
/// the buffers are rented from the client's <see cref="ChromaClient.Buffers"/> pool and returned by <see cref="Release"/>.
/// </summary>
internal readonly struct PendingRecord
{
    public PendingRecord(
        EmbeddingSet set,
        string dataset,
        float[] embedding,
        int embeddingLength,
        float[]? probabilities,
        int probabilitiesLength,
        string? label,
        string? predictedClass,
        string? inputUri,
        KeyValuePair<string, string>[]? metadata,
        long timestampUnixMs)
    {
        Set = set;
        Dataset = dataset;
        Embedding = embedding;
        EmbeddingLength = embeddingLength;
        Probabilities = probabilities;
        ProbabilitiesLength = probabilitiesLength;
        Label = label;
        PredictedClass = predictedClass;
        InputUri = inputUri;
        Metadata = metadata;
        TimestampUnixMs = timestampUnixMs;
    }

    public EmbeddingSet Set { get; }

    public string Dataset { get; }

    public float[] Embedding { get; }

    public int EmbeddingLength { get; }

    public float[]? Probabilities { get; }

    public int ProbabilitiesLength { get; }

    public string? Label { get; }

    public string? PredictedClass { get; }

    public string? InputUri { get; }

    public KeyValuePair<string, string>[]? Metadata { get; }

    public long TimestampUnixMs { get; }

    public ReadOnlySpan<float> EmbeddingSpan => Embedding.AsSpan(0, EmbeddingLength);

    public ReadOnlySpan<float> ProbabilitiesSpan => Probabilities is null ? default : Probabilities.AsSpan(0, ProbabilitiesLength);

    /// <summary>Returns the pooled buffers to the client's pool. Call exactly once, after the record was converted or given up.</summary>
    public void Release()
    {
        var pool = Set.Client.Buffers;
        pool.Return(Embedding);
        if (Probabilities is not null)
        {
            pool.Return(Probabilities);
        }
    }
}
