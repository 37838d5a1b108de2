namespace Chroma;

/// <summary>
/// Drift of an embedding set: a kernel two-sample test between a sample of its training records
/// and its most recent production records.
/// </summary>
/// <param name="Mmd2">Unbiased squared maximum mean discrepancy; about 0 without drift, larger with more.</param>
/// <param name="PValue">Permutation p-value: small means production no longer looks like training.</param>
/// <param name="ComputedAt">When it was measured.</param>
/// <param name="TrainingSample">Training records compared.</param>
/// <param name="ProductionSample">Production records compared.</param>
/// <param name="ThroughSequence">The highest production sequence the measurement covers.</param>
public sealed record EmbeddingSetDrift(
    double Mmd2,
    double PValue,
    DateTimeOffset ComputedAt,
    int TrainingSample,
    int ProductionSample,
    long ThroughSequence);
