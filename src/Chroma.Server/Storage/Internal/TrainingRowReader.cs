using System.Data.Common;

namespace Chroma.Server.Storage.Internal;

/// <summary>
/// Reads the training rows the engine fits on (columns: embedding blob, label or null for "", class probabilities blob or
/// null, predicted class or null, class names JSON or null) into
/// one array of the right size, for both providers. The fingerprint, read first in the same snapshot, counts every
/// training row, so it bounds the labelled ones: at a million 128-d rows a growing list and its final copy held three
/// times the 512 MB. Each label's and predicted class's text is kept once.
/// </summary>
internal static class TrainingRowReader
{
    /// <summary>Reads every row of <paramref name="reader"/>.</summary>
    public static TrainingRows Read(DbDataReader reader, int dimension, TrainingFingerprint fingerprint)
    {
        var capacity = (int)Math.Min(fingerprint.Count, int.MaxValue / dimension);
        var embeddings = new float[capacity * dimension];
        var labels = new List<string>(capacity);
        var probabilities = new List<float[]?>(capacity);
        var predicted = new List<string?>(capacity);
        var names = new List<string>();
        var labelTexts = new Dictionary<string, string>(StringComparer.Ordinal);
        var blob = new byte[dimension * sizeof(float)];
        var rows = 0;
        while (reader.Read())
        {
            if ((rows + 1) * dimension > embeddings.Length)
            {
                // Only if the snapshot and the count disagreed: correct either way.
                Array.Resize(ref embeddings, Math.Max(embeddings.Length * 2, (rows + 1) * dimension));
            }

            reader.GetBytes(0, 0, blob, 0, blob.Length);
            FloatBlob.CopyTo(blob, embeddings.AsSpan(rows * dimension, dimension));
            var label = reader.IsDBNull(1) ? string.Empty : reader.GetString(1);
            labels.Add(labelTexts.TryGetValue(label, out var known) ? known : labelTexts[label] = label);
            var rowProbabilities = reader.IsDBNull(2) ? null : FloatBlob.AsFloats((byte[])reader.GetValue(2)).ToArray();
            probabilities.Add(rowProbabilities);
            predicted.Add(PredictedClass(reader, rowProbabilities, names, labelTexts));
            rows++;
        }

        if (rows * dimension < embeddings.Length)
        {
            // Unlabelled training rows were counted but not read.
            Array.Resize(ref embeddings, rows * dimension);
        }

        return new TrainingRows(embeddings, labels, fingerprint) { Probabilities = probabilities, PredictedClasses = predicted };
    }

    // The class the model predicted for the row: its predicted_class, else the largest of its probabilities named by its
    // class names (ArgMaxClass), else null. Each text is kept once, a label's shared with it.
    private static string? PredictedClass(DbDataReader reader, float[]? probabilities, List<string> names, Dictionary<string, string> texts)
    {
        string? predicted;
        if (!reader.IsDBNull(3) && reader.GetString(3) is { Length: > 0 } logged)
        {
            predicted = logged;
        }
        else
        {
            names.Clear();
            if (probabilities is not null && !reader.IsDBNull(4))
            {
                JsonColumns.ReadArrayInto(reader.GetString(4), names);
            }

            predicted = Recommendations.ArgMaxClass.Of(probabilities, names);
        }

        return predicted is null ? null : texts.TryGetValue(predicted, out var known) ? known : texts[predicted] = predicted;
    }
}
