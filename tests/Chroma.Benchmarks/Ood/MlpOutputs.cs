using Chroma.Samples.TorchSharp;
using static TorchSharp.torch;

namespace Chroma.Benchmarks.Ood;

/// <summary>What a trained <see cref="MnistMlp"/> gives for each image: the 128-wide embedding, logits, softmax probabilities, prediction.</summary>
internal sealed record MlpOutputs(float[] Embeddings, float[] Logits, float[][] Probabilities, int[] Predictions)
{
    public const int Classes = 10;

    public int Count => Predictions.Length;

    public int Dimension => MnistMlp.EmbeddingWidth;

    /// <summary>Runs <paramref name="model"/> (evaluation mode, no gradients, no hooks) over <paramref name="images"/>.</summary>
    public static MlpOutputs Of(MnistMlp model, LabelledImages images)
    {
        model.eval();
        using var noGrad = no_grad();
        const int batch = 1000;
        var d = MnistMlp.EmbeddingWidth;
        var embeddings = new float[images.Count * d];
        var logits = new float[images.Count * Classes];
        for (var start = 0; start < images.Count; start += batch)
        {
            var count = Math.Min(batch, images.Count - start);
            using var scope = NewDisposeScope();
            var input = images.Images(start, count);
            var embedding = model.Embed(input);
            embedding.data<float>().CopyTo(embeddings, start * d);
            model.forward(input).data<float>().CopyTo(logits, start * Classes);
        }

        var probabilities = new float[images.Count][];
        var predictions = new int[images.Count];
        for (var i = 0; i < images.Count; i++)
        {
            var row = logits.AsSpan(i * Classes, Classes);
            var max = float.NegativeInfinity;
            for (var c = 0; c < Classes; c++)
            {
                if (row[c] > max)
                {
                    max = row[c];
                    predictions[i] = c;
                }
            }

            var p = new float[Classes];
            double total = 0;
            for (var c = 0; c < Classes; c++)
            {
                total += p[c] = (float)Math.Exp(row[c] - max);
            }

            for (var c = 0; c < Classes; c++)
            {
                p[c] = (float)(p[c] / total);
            }

            probabilities[i] = p;
        }

        return new MlpOutputs(embeddings, logits, probabilities, predictions);
    }

    /// <summary>The energy score of Liu et al. (2020), <c>-logsumexp(logits)</c> (larger = more unusual).</summary>
    public double Energy(int index)
    {
        var row = Logits.AsSpan(index * Classes, Classes);
        var max = float.NegativeInfinity;
        foreach (var v in row)
        {
            max = Math.Max(max, v);
        }

        double sum = 0;
        foreach (var v in row)
        {
            sum += Math.Exp(v - max);
        }

        return -(max + Math.Log(sum));
    }

    public float[] Embedding(int index) => Embeddings.AsSpan(index * Dimension, Dimension).ToArray();

    /// <summary>The first <paramref name="count"/> outputs.</summary>
    public MlpOutputs Take(int count) => new(
        Embeddings[..(count * Dimension)], Logits[..(count * Classes)], Probabilities[..count], Predictions[..count]);

    public static MlpOutputs Concat(IReadOnlyList<MlpOutputs> parts) => new(
        [.. parts.SelectMany(p => p.Embeddings)],
        [.. parts.SelectMany(p => p.Logits)],
        [.. parts.SelectMany(p => p.Probabilities)],
        [.. parts.SelectMany(p => p.Predictions)]);
}
