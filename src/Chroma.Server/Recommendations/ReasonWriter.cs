using System.Globalization;

namespace Chroma.Server.Recommendations;

/// <summary>
/// Short human reasons for a recommendation, most important first: each notable signal
/// (p &lt; 0.05, or a normalised probability uncertainty of at least 0.5) in order of its weighted
/// surprise under the strategy. When nothing is notable the strongest signal is still named, so
/// every recommendation says why it is where it is.
/// </summary>
internal static class ReasonWriter
{
    private const double NotablePValue = 0.05;

    /// <summary>Writes the reasons of <paramref name="record"/>.</summary>
    public static IReadOnlyList<string> Write(ScoredRecord record, RecommendationStrategy strategy)
    {
        ArgumentNullException.ThrowIfNull(record);
        var ordered = record.Signals
            .Select(s => (Signal: s, Importance: SignalCombiner.Weight(strategy, s.Kind, record.BoundaryFactor) * s.Surprise))
            .OrderByDescending(s => s.Importance)
            .ThenBy(s => s.Signal.Kind)
            .ToList();
        var reasons = ordered
            .Where(s => s.Signal.PValue < NotablePValue || (IsProbabilitySignal(s.Signal.Kind) && s.Signal.Percentile >= 0.5))
            .Select(s => Describe(record, s.Signal))
            .Distinct(StringComparer.Ordinal)
            .ToList();
        if (reasons.Count == 0 && ordered.Count > 0)
        {
            reasons.Add("nothing stands out; strongest signal: " + Describe(record, ordered[0].Signal));
        }

        return reasons;
    }

    /// <summary>Describes one signal of <paramref name="record"/> in a few words.</summary>
    public static string Describe(ScoredRecord record, SignalScore signal)
    {
        ArgumentNullException.ThrowIfNull(record);
        var neighbors = record.Measurement.Neighbors;
        var u = record.Uncertainty;
        return signal.Kind switch
        {
            SignalKind.Mahalanobis when record.Measurement.NearestClass.Length == 0 => Invariant($"far from the training data (Mahalanobis {FormatP(signal.PValue)})"),
            SignalKind.Mahalanobis => Invariant($"far from all training classes (Mahalanobis {FormatP(signal.PValue)}; nearest class {record.Measurement.NearestClass})"),
            SignalKind.RelativeMahalanobis => Invariant($"unlike its nearest class in ways the training data does not explain (relative Mahalanobis {FormatP(signal.PValue)})"),
            SignalKind.FeatureNorm when record.Measurement.NearestClass.Length == 0 => Invariant($"weak response: embedding {signal.Value:P0} shorter than the training data's typical length ({FormatP(signal.PValue)})"),
            SignalKind.FeatureNorm => Invariant($"weak response: embedding {signal.Value:P0} shorter than its class's typical length ({FormatP(signal.PValue)})"),
            SignalKind.ProductionShift => Invariant($"unlike the training data: a classifier tells it apart from the training (or reference) rows ({FormatP(signal.PValue)})"),
            SignalKind.KnnDistance => Invariant($"far from its {neighbors.NeighborCount} nearest training neighbours (kNN distance {FormatP(signal.PValue)})"),
            SignalKind.Boundary when neighbors.DominantOtherClass is not null =>
                Invariant($"neighbours disagree: {neighbors.DominantOtherCount} of {neighbors.NeighborCount} are class {neighbors.DominantOtherClass}"),
            SignalKind.Boundary => Invariant($"neighbours agree with the prediction ({FormatP(signal.PValue)})"),
            SignalKind.LeastConfidence when u is { } v => Invariant($"low confidence: top class {v.TopProbability:0.00}"),
            SignalKind.Margin when u is { } v => Invariant($"small margin: top two classes {v.TopProbability:0.00} vs {v.SecondProbability:0.00}"),
            SignalKind.Entropy when u is { } v => Invariant($"high entropy: {v.NormalizedEntropy:0.00} of the maximum"),
            _ => Invariant($"{signal.Kind.ToWireName()} = {signal.Value:0.###}"),
        };
    }

    /// <summary>"p &lt; 0.001" below one in a thousand, otherwise "p = 0.012".</summary>
    public static string FormatP(double p) => p < 0.001 ? "p < 0.001" : Invariant($"p = {p:0.###}");

    private static bool IsProbabilitySignal(SignalKind kind) =>
        kind is SignalKind.Entropy or SignalKind.Margin or SignalKind.LeastConfidence;

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
