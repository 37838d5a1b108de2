namespace Chroma.Server.Recommendations;

/// <summary>Outcome of a drift test between training and recent production embeddings.</summary>
/// <param name="Mmd2">Unbiased squared maximum mean discrepancy; about 0 without drift, larger with more.</param>
/// <param name="PValue">Permutation p-value of <paramref name="Mmd2"/> (small = drift).</param>
/// <param name="Bandwidth">The RBF bandwidth h used (<c>k(x, y) = exp(-||x - y||^2 / h)</c>).</param>
/// <param name="ReferenceSamples">Training records used.</param>
/// <param name="RecentSamples">Production records used.</param>
internal readonly record struct DriftResult(double Mmd2, double PValue, double Bandwidth, int ReferenceSamples, int RecentSamples);
