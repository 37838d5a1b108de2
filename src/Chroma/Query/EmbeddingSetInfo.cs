namespace Chroma;

/// <summary>What the server holds for one embedding set.</summary>
public sealed class EmbeddingSetInfo
{
    /// <summary>The set id (<c>model/version/layer</c>).</summary>
    public required string SetId { get; init; }

    /// <summary>Model, version, layer, dimension and metric (<see cref="DistanceMetric.L2"/> or <see cref="DistanceMetric.Cosine"/>).</summary>
    public required EmbeddingSetDescriptor Descriptor { get; init; }

    /// <summary>Record counts per dataset.</summary>
    public required IReadOnlyList<DatasetCount> Datasets { get; init; }

    /// <summary>All records of the set.</summary>
    public required long TotalRecords { get; init; }

    /// <summary>When the first batch created the set.</summary>
    public required DateTimeOffset Created { get; init; }

    /// <summary>When the set last changed.</summary>
    public required DateTimeOffset Updated { get; init; }

    /// <summary>The latest drift measurement, or <see langword="null"/> (the default) until the server has measured one.</summary>
    public EmbeddingSetDrift? Drift { get; init; }

    /// <summary>Recent drift measurements, oldest first. The default value is empty.</summary>
    public IReadOnlyList<EmbeddingSetDrift> DriftHistory { get; init; } = [];

    /// <summary>Gets the set's nearest-neighbour index, or <see langword="null"/> while the server has not loaded it.</summary>
    public EmbeddingSetIndexInfo? Index { get; init; }

    /// <summary>Gets the server's retention rules that cover the set, with their last run. The default value is empty (no rules).</summary>
    public IReadOnlyList<EmbeddingSetRetention> Retention { get; init; } = [];

    /// <summary>
    /// Gets why the set's last scoring pass failed (its recommendations are not current), or <see langword="null"/>
    /// (the default) when it succeeded or none ran.
    /// </summary>
    public ScoringFailure? LastScoringFailure { get; init; }
}

/// <summary>How many records one dataset of a set has.</summary>
public sealed class DatasetCount
{
    /// <summary>The dataset name.</summary>
    public required string Dataset { get; init; }

    /// <summary>Its record count.</summary>
    public required long Count { get; init; }
}

/// <summary>A nearest neighbour and its distance under the set's metric (squared Euclidean, or 1 - cosine similarity).</summary>
public sealed class ChromaNeighbor
{
    /// <summary>The neighbouring record.</summary>
    public required ChromaRecord Record { get; init; }

    /// <summary>Its distance to the query.</summary>
    public required float Distance { get; init; }
}
