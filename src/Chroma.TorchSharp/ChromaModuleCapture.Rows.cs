using System.Globalization;
using Chroma.TorchSharp.Internal;

namespace Chroma.TorchSharp;

public sealed partial class ChromaModuleCapture
{
    /// <summary>Logs one record per batch row from the copies in <paramref name="state"/>.</summary>
    private void LogRows(ForwardState state, ReadOnlySpan<float> outputs, int classes)
    {
        var rows = state.Rows;
        var width = state.Width;
        if (width != _set.Descriptor.Dimension)
        {
            ReportSkipped(
                "the layer's output width differs from the embedding set's dimension",
                $"the layer's output has {width} values per row ({rows} rows), the embedding set's dimension is {_set.Descriptor.Dimension}");
            return;
        }

        var context = _context.Value;
        var dataset = context?.Dataset ?? ChromaDatasets.Production;
        var labels = context?.Labels;
        var inputUris = context?.InputUris;
        if ((labels is not null && labels.Count != rows) || (inputUris is not null && inputUris.Count != rows))
        {
            ReportSkipped(
                "the labels or input URIs of the scope do not match the batch size",
                $"the scope has {labels?.Count.ToString(CultureInfo.InvariantCulture) ?? "no"} labels and {inputUris?.Count.ToString(CultureInfo.InvariantCulture) ?? "no"} input URIs for a batch of {rows} rows");
            return;
        }

        if (context is not null && !context.TryUseRowValues())
        {
            // The labels and URIs were given for one batch and an earlier forward of this scope logged them: a second
            // batch would be stored with the first one's labels.
            ReportSkipped(
                "a second forward inside one scope with labels or input URIs",
                $"a second forward ({rows} rows) inside one scope with labels or input URIs: they were given for one batch and an earlier forward used them; open one scope per forward");
            return;
        }

        if (classes > 0 && _includeProbabilities && _output == ModelOutputKind.Logits && state.Probabilities.Length < classes)
        {
            state.Probabilities = new float[classes];
        }

        long queued = 0;
        for (var row = 0; row < rows; row++)
        {
            string? predicted = null;
            ReadOnlySpan<float> probabilities = default;
            if (classes > 0)
            {
                var scores = outputs.Slice(row * classes, classes);
                predicted = ClassScores.HasFinite(scores) ? _classLabels.NameOf(ClassScores.ArgMax(scores)) : null;
                if (_includeProbabilities)
                {
                    probabilities = scores;
                    if (_output == ModelOutputKind.Logits)
                    {
                        var destination = state.Probabilities.AsSpan(0, classes);
                        ClassScores.Softmax(scores, destination);
                        probabilities = destination;
                    }

                    if (!ClassScores.AllFinite(probabilities))
                    {
                        // A broken head output must not cost the embedding: the row is logged without probabilities.
                        probabilities = default;
                        _set.ReportCaptureProblem(
                            Adapter,
                            "the model output has NaN or infinity: rows logged without class probabilities",
                            $"the model output has NaN or infinity (row {row} of {rows}): such rows are logged with their embedding and without class probabilities");
                    }
                }
            }

            var embedding = state.Embeddings.AsSpan(row * width, width);
            if (_set.Log(dataset, embedding, labels?[row], predicted, probabilities, inputUris?[row], _metadata))
            {
                queued++;
            }
        }

        Interlocked.Add(ref _capturedRows, queued);
    }
}
