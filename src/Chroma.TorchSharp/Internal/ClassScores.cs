namespace Chroma.TorchSharp.Internal;

/// <summary>Arg-max and softmax of one row of class scores, without allocating.</summary>
internal static class ClassScores
{
    /// <summary>The index of the largest score (the first one on ties); NaN scores never win.</summary>
    public static int ArgMax(ReadOnlySpan<float> scores)
    {
        var best = 0;
        var bestScore = float.NegativeInfinity;
        for (var i = 0; i < scores.Length; i++)
        {
            if (scores[i] > bestScore)
            {
                bestScore = scores[i];
                best = i;
            }
        }

        return best;
    }

    /// <summary>Whether any score is a finite number (else no class can be called the prediction).</summary>
    public static bool HasFinite(ReadOnlySpan<float> scores)
    {
        foreach (var value in scores)
        {
            if (float.IsFinite(value))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Whether every value is a finite number.</summary>
    public static bool AllFinite(ReadOnlySpan<float> values)
    {
        foreach (var value in values)
        {
            if (!float.IsFinite(value))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Writes the softmax of <paramref name="logits"/> into <paramref name="destination"/> (same length).</summary>
    public static void Softmax(ReadOnlySpan<float> logits, Span<float> destination)
    {
        // Subtracting the maximum keeps exp() from overflowing on large logits; the result is unchanged.
        var max = float.NegativeInfinity;
        foreach (var value in logits)
        {
            max = Math.Max(max, value);
        }

        var sum = 0.0;
        for (var i = 0; i < logits.Length; i++)
        {
            var e = MathF.Exp(logits[i] - max);
            destination[i] = e;
            sum += e;
        }

        var scale = (float)(1.0 / sum);
        for (var i = 0; i < logits.Length; i++)
        {
            destination[i] *= scale;
        }
    }
}
