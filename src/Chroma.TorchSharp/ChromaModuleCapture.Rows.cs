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
            ReportSkipped("the layer's output width differs from the embedding set's dimension", exception: null);
            return;
        }

        var context = _context.Value;
        var dataset = context?.Dataset ?? ChromaDatasets.Production;
        var labels = context?.Labels;
        var inputUris = context?.InputUris;
        if ((labels is not null && labels.Count != rows) || (inputUris is not null && inputUris.Count != rows))
        {
            ReportSkipped("the labels or input URIs of the scope do not match the batch size", exception: null);
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
                predicted = _classLabels.NameOf(ClassScores.ArgMax(scores));
                if (_includeProbabilities)
                {
                    probabilities = scores;
                    if (_output == ModelOutputKind.Logits)
                    {
                        var destination = state.Probabilities.AsSpan(0, classes);
                        ClassScores.Softmax(scores, destination);
                        probabilities = destination;
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
