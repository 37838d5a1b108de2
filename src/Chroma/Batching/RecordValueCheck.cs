using System.Numerics;
using System.Runtime.InteropServices;

namespace Chroma.Batching;

/// <summary>
/// The checks of a record's values that the server would refuse a whole batch for, made when the record is logged (so
/// <c>Log</c> returns false for it) and again before it is sent: one vectorised pass over each vector.
/// </summary>
internal static class RecordValueCheck
{
    /// <summary>The server's bound on embedding values, exclusive (2^50): larger ones would overflow squared distances.</summary>
    internal const float MaxEmbeddingMagnitude = 1_125_899_906_842_624f;

    /// <summary>What is wrong with these values, or <see langword="null"/> when the server would take them.</summary>
    public static string? Problem(ReadOnlySpan<float> embedding, ReadOnlySpan<float> probabilities, string dataset)
    {
        if (!AllBelow(embedding, MaxEmbeddingMagnitude))
        {
            return AllBelow(embedding, float.PositiveInfinity)
                ? "embedding has a value of magnitude 2^50 (about 1.1e15) or more"
                : "embedding contains NaN or infinity";
        }

        if (!AllBelow(probabilities, float.PositiveInfinity))
        {
            return "class probabilities contain NaN or infinity";
        }

        if (!ReferenceEquals(dataset, ChromaDatasets.Training)
            && !ReferenceEquals(dataset, ChromaDatasets.Production)
            && !EmbeddingSetDescriptor.IsValidName(dataset, 64))
        {
            return "dataset name is not 1-64 characters of [A-Za-z0-9_.-]";
        }

        return null;
    }

    /// <summary>
    /// Whether finite class probabilities look like something else (logits, scores): a negative value, or a sum away
    /// from 1 by more than 0.01. The server reads them as probabilities: it drops the uncertainty signals of negative
    /// ones and rescales others, so the ranking changes without a word. One pass, no allocation (the capture path).
    /// </summary>
    public static bool ProbabilitiesDoubtful(ReadOnlySpan<float> probabilities)
    {
        if (probabilities.IsEmpty)
        {
            return false;
        }

        var sum = 0f;
        foreach (var p in probabilities)
        {
            if (p < 0)
            {
                return true;
            }

            sum += p;
        }

        return Math.Abs(sum - 1) > 0.01f;
    }

    /// <summary>What is doubtful about <paramref name="probabilities"/> (see <see cref="ProbabilitiesDoubtful"/>), with the first values.</summary>
    public static string DescribeProbabilityDoubt(ReadOnlySpan<float> probabilities)
    {
        var negative = false;
        var sum = 0f;
        foreach (var p in probabilities)
        {
            negative |= p < 0;
            sum += p;
        }

        var shown = string.Join(", ", probabilities[..Math.Min(probabilities.Length, 5)].ToArray());
        return string.Create(
            System.Globalization.CultureInfo.InvariantCulture,
            $"{(negative ? "has negative values (logits?)" : $"sums to {sum:G4}, not 1")}: [{shown}{(probabilities.Length > 5 ? ", ..." : string.Empty)}]");
    }

    // Whether every value's magnitude is below limit (NaN is not; with limit +infinity: every value is finite).
    private static bool AllBelow(ReadOnlySpan<float> values, float limit)
    {
        var i = 0;
        if (Vector.IsHardwareAccelerated && values.Length >= Vector<float>.Count)
        {
            var bound = new Vector<float>(limit);
            var vectors = MemoryMarshal.Cast<float, Vector<float>>(values);
            foreach (var vector in vectors)
            {
                if (!Vector.LessThanAll(Vector.Abs(vector), bound))
                {
                    return false;
                }
            }

            i = vectors.Length * Vector<float>.Count;
        }

        for (; i < values.Length; i++)
        {
            if (!(Math.Abs(values[i]) < limit))
            {
                return false;
            }
        }

        return true;
    }
}
