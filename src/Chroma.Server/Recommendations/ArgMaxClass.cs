using System.Globalization;
using System.Numerics.Tensors;

namespace Chroma.Server.Recommendations;

/// <summary>
/// The class a record's probabilities predict, named as the SDK names a predicted class: the largest probability's
/// index (the first on ties), mapped through the record's class names where they cover it, else the index as text
/// ("0".."n-1", the proto's contract for <c>Inference.class_names</c> left empty).
/// </summary>
internal static class ArgMaxClass
{
    /// <summary>The predicted class, or null when the probabilities are missing or unusable (<see cref="Scheduling.ScoreCodec.UsableProbabilities"/>).</summary>
    /// <param name="probabilities">One record's class probabilities, or null.</param>
    /// <param name="classNames">Their class names (index = class index), or null.</param>
    public static string? Of(float[]? probabilities, IReadOnlyList<string>? classNames = null)
    {
        if (Scheduling.ScoreCodec.UsableProbabilities(probabilities) is not { } usable)
        {
            return null;
        }

        var best = TensorPrimitives.IndexOfMax(usable);
        return classNames is not null && best < classNames.Count && !string.IsNullOrEmpty(classNames[best])
            ? classNames[best]
            : best.ToString(CultureInfo.InvariantCulture);
    }
}
