using System.Globalization;

namespace Chroma.Server.Recommendations;

/// <summary>
/// Short human reasons for a recommendation, most important first: each notable signal
/// (p &lt; 0.05, or a probability signal whose normalised value is at least 0.5) in order of what it adds to the
/// strategy's score (<see cref="SignalCombiner.Contribution"/>). When nothing is notable the strongest signal is still named, so
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
            .Select(s => (Signal: s, Importance: SignalCombiner.Contribution(record, s, strategy)))
            .OrderByDescending(s => s.Importance)
            .ThenBy(s => s.Signal.Kind)
            .ToList();
        var reasons = ordered
            .Where(s => s.Signal.PValue < NotablePValue || IsUncertainOnItsFace(record, s.Signal.Kind))
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
            SignalKind.LeastConfidence when u is { } v => $"low confidence: top class {Probability(v.TopProbability)}{PIfNotable(signal)}",
            SignalKind.Margin when u is { } v => $"small margin: top two classes {Probability(v.TopProbability)} vs {Probability(v.SecondProbability)}{PIfNotable(signal)}",
            SignalKind.Entropy when u is { } v => $"high entropy: {Probability(v.NormalizedEntropy)} of the maximum{PIfNotable(signal)}",
            _ => Invariant($"{signal.Kind.ToWireName()} = {signal.Value:0.###}"),
        };
    }

    // " (p = 0.012)" where the signal is evidence against the training data: a probability reason the model's own
    // training rows make ordinary reads without it.
    private static string PIfNotable(SignalScore signal) => signal.PValue < NotablePValue ? $" ({FormatP(signal.PValue)})" : string.Empty;

    /// <summary>"p &lt; 0.001" below one in a thousand, otherwise "p = 0.012".</summary>
    public static string FormatP(double p) => p < 0.001 ? "p < 0.001" : Invariant($"p = {p:0.###}");

    // A probability signal whose own value says "unsure" (normalised 0.5 or more) is worth a reason even where the
    // model is as unsure on its training data; one that is neither evidence (p) nor unsure on its face is not: its
    // calibrated percentile alone listed "small margin: top two classes 1.00 vs 0.00" at p = 0.38 for a model fully
    // confident on its training rows (probe Y, Y5).
    private static bool IsUncertainOnItsFace(ScoredRecord record, SignalKind kind) => record.Uncertainty is { } u && kind switch
    {
        SignalKind.Entropy => u.NormalizedEntropy >= 0.5,
        SignalKind.Margin => u.Margin >= 0.5,
        SignalKind.LeastConfidence => u.NormalizedLeastConfidence >= 0.5,
        _ => false,
    };

    // Two decimals, unless they would round a probability to 1.00 or 0.00 that is neither: then as many as show it
    // (0.9993 vs 0.0007), so a reason never reads "small margin: 1.00 vs 0.00".
    private static string Probability(double p) =>
        p is > 0 and < 0.005 || p is >= 0.995 and < 1 ? p.ToString("0.0###", CultureInfo.InvariantCulture) : p.ToString("0.00", CultureInfo.InvariantCulture);

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
