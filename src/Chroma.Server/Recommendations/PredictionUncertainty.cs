namespace Chroma.Server.Recommendations;

/// <summary>
/// Uncertainty of the model's own class probabilities <c>p</c> (C classes, sorted so p1 &gt;= p2 &gt;= ...).
/// Each value also comes normalised to 0..1 (1 = as uncertain as possible), which is what the
/// engine uses as its percentile: training records carry no probabilities to calibrate against.
/// </summary>
/// <param name="Entropy">Shannon entropy <c>-sum_c p_c ln p_c</c> in nats.</param>
/// <param name="NormalizedEntropy"><c>Entropy / ln C</c> (0 when C = 1).</param>
/// <param name="Margin"><c>1 - (p1 - p2)</c>; p2 = 0 when C = 1.</param>
/// <param name="LeastConfidence"><c>1 - p1</c>.</param>
/// <param name="NormalizedLeastConfidence"><c>(1 - p1) C / (C - 1)</c>, since p1 &gt;= 1/C (0 when C = 1).</param>
/// <param name="TopProbability">p1.</param>
/// <param name="SecondProbability">p2.</param>
/// <param name="TopClass">Index of p1 in the input.</param>
internal readonly record struct PredictionUncertainty(
    double Entropy,
    double NormalizedEntropy,
    double Margin,
    double LeastConfidence,
    double NormalizedLeastConfidence,
    double TopProbability,
    double SecondProbability,
    int TopClass)
{
    /// <summary>Computes the uncertainties. Probabilities are rescaled to sum to 1 first.</summary>
    public static PredictionUncertainty From(ReadOnlySpan<float> probabilities)
    {
        double total = 0;
        foreach (var p in probabilities)
        {
            total += p;
        }

        if (probabilities.IsEmpty || !(total > 0))
        {
            throw new ArgumentException("probabilities must be non-empty with a positive sum.", nameof(probabilities));
        }

        double entropy = 0, top = -1, second = 0;
        var topClass = 0;
        for (var c = 0; c < probabilities.Length; c++)
        {
            var p = probabilities[c] / total;
            if (p > 0)
            {
                entropy -= p * Math.Log(p);
            }

            if (p > top)
            {
                second = Math.Max(top, 0);
                top = p;
                topClass = c;
            }
            else if (p > second)
            {
                second = p;
            }
        }

        var classes = probabilities.Length;
        var normalizedEntropy = classes > 1 ? Math.Clamp(entropy / Math.Log(classes), 0, 1) : 0;
        var normalizedLeast = classes > 1 ? Math.Clamp((1 - top) * classes / (classes - 1), 0, 1) : 0;
        return new PredictionUncertainty(entropy, normalizedEntropy, 1 - (top - second), 1 - top, normalizedLeast, top, second, topClass);
    }

    /// <summary>Throws an <see cref="ArgumentException"/> naming the record when its probabilities are unusable.</summary>
    public static void ThrowIfInvalid(float[]? probabilities, int record)
    {
        if (probabilities is null)
        {
            return;
        }

        double total = 0;
        foreach (var p in probabilities)
        {
            if (!float.IsFinite(p) || p < 0)
            {
                throw new ArgumentException($"probabilities[{record}] holds {p}; probabilities must be finite and non-negative.", nameof(probabilities));
            }

            total += p;
        }

        if (probabilities.Length == 0 || !(total > 0))
        {
            throw new ArgumentException($"probabilities[{record}] is empty or sums to zero.", nameof(probabilities));
        }
    }
}
