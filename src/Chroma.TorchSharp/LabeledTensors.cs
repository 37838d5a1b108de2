using static TorchSharp.torch;

namespace Chroma.TorchSharp;

/// <summary>
/// Turns labeled records (<see cref="ChromaClient.GetLabeledRecordsAsync"/>) into TorchSharp tensors
/// for retraining: the embeddings as a float32 matrix and the reviewers' labels as class indices.
/// </summary>
public static class LabeledTensors
{
    /// <summary>
    /// The records that carry a reviewer's label (others, such as training records, are skipped), as <c>features</c>
    /// (float32, <c>[n, d]</c>; <c>[0, 0]</c> when none carries a label) and <c>labels</c> (int64, <c>[n]</c>, the index
    /// of each label in <paramref name="classNames"/>). The caller owns (disposes) both tensors.
    /// </summary>
    /// <exception cref="ArgumentException">
    /// A labeled record has no embedding (read them with <c>GetLabeledRecordsAsync(setId, includeEmbeddings: true)</c>),
    /// a label is not in <paramref name="classNames"/>, or the embeddings differ in length.
    /// </exception>
    public static (Tensor Features, Tensor Labels) ToTensors(IEnumerable<ChromaRecord> records, IReadOnlyList<string> classNames)
    {
        ArgumentNullException.ThrowIfNull(records);
        ArgumentNullException.ThrowIfNull(classNames);
        var index = classNames.Select((name, i) => (name, i)).ToDictionary(p => p.name, p => (long)p.i, StringComparer.Ordinal);
        var rows = records.Where(r => r.Review?.Label is not null).ToList();

        // Before, such records were skipped: a caller who read them without embeddings got no rows and no error (probe M, M4).
        if (rows.Count(r => r.Embedding.IsEmpty) is > 0 and var missing)
        {
            throw new ArgumentException(
                $"records: {missing} of {rows.Count} labeled records carry no embedding (read them with GetLabeledRecordsAsync(setId, includeEmbeddings: true)).", nameof(records));
        }

        var dimension = rows.Count == 0 ? 0 : rows[0].Embedding.Length;
        var features = new float[rows.Count * dimension];
        var labels = new long[rows.Count];
        for (var i = 0; i < rows.Count; i++)
        {
            if (rows[i].Embedding.Length != dimension)
            {
                throw new ArgumentException($"records: record '{rows[i].Id}' has an embedding of {rows[i].Embedding.Length} values, the first has {dimension}.", nameof(records));
            }

            var label = rows[i].Review!.Label!;
            labels[i] = index.TryGetValue(label, out var classIndex)
                ? classIndex
                : throw new ArgumentException(
                    $"records: record '{rows[i].Id}' has label '{label}', which is not in classNames (labels are free text: a reviewer may name a class the model does not have; add it to classNames, or leave such records out).",
                    nameof(classNames));
            rows[i].Embedding.Span.CopyTo(features.AsSpan(i * dimension, dimension));
        }

        return (tensor(features, [rows.Count, dimension]), tensor(labels, [rows.Count]));
    }
}
