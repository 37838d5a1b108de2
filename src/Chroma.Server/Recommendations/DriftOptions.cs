namespace Chroma.Server.Recommendations;

/// <summary>Settings of <see cref="MmdDriftDetector"/>.</summary>
internal sealed record DriftOptions
{
    /// <summary>Records sampled (without replacement) from each side; the cost grows with its square. The default value is 500.</summary>
    public int SampleSize { get; init; } = 500;

    /// <summary>Label permutations for the p-value (its resolution is 1 / (Permutations + 1)). The default value is 200.</summary>
    public int Permutations { get; init; } = 200;

    /// <summary>Seed of the sampling and the permutations. The default value is 17.</summary>
    public int Seed { get; init; } = 17;
}

/// <summary>Outcome of a drift test between training and recent production embeddings.</summary>
/// <param name="Mmd2">Unbiased squared maximum mean discrepancy; about 0 without drift, larger with more.</param>
/// <param name="PValue">Permutation p-value of <paramref name="Mmd2"/> (small = drift).</param>
/// <param name="Bandwidth">The RBF bandwidth h used (<c>k(x, y) = exp(-||x - y||^2 / h)</c>).</param>
/// <param name="ReferenceSamples">Training records used.</param>
/// <param name="RecentSamples">Production records used.</param>
internal readonly record struct DriftResult(double Mmd2, double PValue, double Bandwidth, int ReferenceSamples, int RecentSamples);
