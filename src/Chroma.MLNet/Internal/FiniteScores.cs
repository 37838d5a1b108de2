using System.Numerics.Tensors;

namespace Chroma.MLNet.Internal;

/// <summary>
/// Keeps a row whose scores are broken: scores holding NaN or infinity are left out (reported once per adapter), so the
/// row is logged with its embedding and without class probabilities instead of being refused whole.
/// </summary>
internal static class FiniteScores
{
    public static ReadOnlySpan<float> OrNone(ReadOnlySpan<float> scores, EmbeddingSet set, string adapter)
    {
        if (TensorPrimitives.IsFiniteAll(scores))
        {
            return scores;
        }

        set.ReportCaptureProblem(
            adapter,
            "scores hold NaN or infinity: rows logged without class probabilities",
            $"the scores hold NaN or infinity ({scores.Length} values): such rows are logged with their embedding and without class probabilities");
        return default;
    }
}
