using System.Globalization;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace Chroma.MLNet.Internal;

/// <summary>
/// The class order of an ML.NET model's <c>Score</c> column: slot i is label key i + 1, and ML.NET numbers the keys in
/// order of first appearance in the training data, so slot i is seldom class "i". The names come from the column's
/// slot names, or else from the predicted-label column's key values.
/// </summary>
internal static class ScoreClassNames
{
    /// <summary>
    /// The names of <paramref name="scoreColumn"/>'s slots in <paramref name="schema"/>, or <see langword="null"/> when
    /// the schema does not say (or they are "0".."n-1" already, which the server assumes without names).
    /// </summary>
    public static string[]? Read(DataViewSchema schema, string? scoreColumn, string? predictedLabelColumn)
    {
        if (scoreColumn is null || schema.GetColumnOrNull(scoreColumn) is not { Type: VectorDataViewType { Size: > 0 } vector } score)
        {
            return null;
        }

        string[]? names = null;
        if (score.HasSlotNames())
        {
            VBuffer<ReadOnlyMemory<char>> slots = default;
            score.GetSlotNames(ref slots);
            names = [.. slots.DenseValues().Select(static name => name.ToString())];
        }
        else if (predictedLabelColumn is not null && schema.GetColumnOrNull(predictedLabelColumn) is { } predicted)
        {
            names = ColumnTextReader.KeyNames(predicted);
        }

        return names is null || names.Length != vector.Size || names.Any(string.IsNullOrEmpty) || IsIndexOrder(names) ? null : names;
    }

    /// <summary>
    /// <paramref name="set"/> carrying <paramref name="names"/> as its class names (<see cref="EmbeddingSet.WithClassNames"/>)
    /// unless the set has names of its own: those are kept, and a difference is reported as a capture problem.
    /// </summary>
    public static EmbeddingSet Apply(EmbeddingSet set, string[]? names, string adapter)
    {
        if (names is null)
        {
            return set;
        }

        if (set.ClassNames is null)
        {
            return set.WithClassNames(names);
        }

        if (!set.ClassNames.SequenceEqual(names, StringComparer.Ordinal))
        {
            set.ReportCaptureProblem(adapter, string.Create(
                CultureInfo.InvariantCulture,
                $"set '{set.Descriptor.Id}' was given class names ({string.Join(",", set.ClassNames.Take(10))}) that differ from the order of the model's scores ({string.Join(",", names.Take(10))}); the set's are sent"));
        }

        return set;
    }

    private static bool IsIndexOrder(string[] names) =>
        names.Select((name, i) => name == i.ToString(CultureInfo.InvariantCulture)).All(static same => same);
}
