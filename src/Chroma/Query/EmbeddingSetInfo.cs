namespace Chroma;

/// <summary>What the server holds for one embedding set.</summary>
/// <param name="SetId">The set id (<c>model/version/layer</c>).</param>
/// <param name="Descriptor">Model, version, layer and dimension.</param>
/// <param name="Datasets">Record counts per dataset.</param>
/// <param name="TotalRecords">All records of the set.</param>
/// <param name="Created">When the first batch created the set.</param>
/// <param name="Updated">When the set last changed.</param>
/// <param name="Drift">The latest drift measurement, or <see langword="null"/> until the server has measured one.</param>
/// <param name="DriftHistory">Recent drift measurements, oldest first (empty when none; <see langword="null"/> reads as empty).</param>
public sealed record EmbeddingSetInfo(
    string SetId,
    EmbeddingSetDescriptor Descriptor,
    IReadOnlyList<DatasetCount> Datasets,
    long TotalRecords,
    DateTimeOffset Created,
    DateTimeOffset Updated,
    EmbeddingSetDrift? Drift = null,
    IReadOnlyList<EmbeddingSetDrift>? DriftHistory = null)
{
    /// <summary>Gets the set's nearest-neighbour index, or <see langword="null"/> while the server has not loaded it.</summary>
    public EmbeddingSetIndexInfo? Index { get; init; }
}

/// <summary>How many records one dataset of a set has.</summary>
/// <param name="Dataset">The dataset name.</param>
/// <param name="Count">Its record count.</param>
public sealed record DatasetCount(string Dataset, long Count);

/// <summary>A nearest neighbour and its distance under the set's metric (squared Euclidean).</summary>
/// <param name="Record">The neighbouring record.</param>
/// <param name="Distance">Its distance to the query.</param>
public sealed record ChromaNeighbor(ChromaRecord Record, float Distance);
