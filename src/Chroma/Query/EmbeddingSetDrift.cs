namespace Chroma;

/// <summary>
/// Drift of an embedding set: a kernel two-sample test between a sample of its training records
/// and its most recent production records.
/// </summary>
public sealed class EmbeddingSetDrift
{
    /// <summary>Unbiased squared maximum mean discrepancy; about 0 without drift, larger with more.</summary>
    public required double Mmd2 { get; init; }

    /// <summary>Permutation p-value: small means production no longer looks like training.</summary>
    public required double PValue { get; init; }

    /// <summary>When it was measured.</summary>
    public required DateTimeOffset ComputedAt { get; init; }

    /// <summary>Training records compared.</summary>
    public required int TrainingSample { get; init; }

    /// <summary>Production records compared.</summary>
    public required int ProductionSample { get; init; }

    /// <summary>The highest production sequence the measurement covers.</summary>
    public required long ThroughSequence { get; init; }
}
